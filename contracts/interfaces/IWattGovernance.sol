// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IWattGovernance
/// @notice Errors and bounds shared by WattGovernor and WattTimelock: governance's own settings
///         are governed parameters too, so a passed vote can neither brick governance (a
///         threshold or quorum nobody can reach) nor strip its protections (no delay, a voting
///         period of seconds).
interface IWattGovernance {
    /// @notice A governance setting outside its bounds.
    /// @param name The setting ("votingDelay", "votingPeriod", "proposalThreshold",
    ///        "quorumNumerator", "lateQuorumExtension", "minDelay").
    /// @param value The refused value.
    /// @param min The smallest allowed value.
    /// @param max The largest allowed value.
    error GovernanceParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);
}
