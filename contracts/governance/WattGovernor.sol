// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorPreventLateQuorum} from "@openzeppelin/contracts/governance/extensions/GovernorPreventLateQuorum.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from
    "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";

import {IWattGovernance} from "../interfaces/IWattGovernance.sol";

/// @title WattGovernor
/// @notice WATT holders govern WattNet: proposals are voted with delegated WATT and executed by
///         the WattTimelock, which holds every admin and parameter role of every contract.
/// @dev WATT's clock is a timestamp (EIP-6372 `mode=timestamp`), so `votingDelay`,
///      `votingPeriod` and `lateQuorumExtension` are in seconds. The governor holds no funds and
///      no roles itself; it is the timelock's proposer and canceller.
///      Invariant: every setting stays within the bounds below, at construction and after any
///      governance change (the setters are OpenZeppelin's, `onlyGovernance`).
contract WattGovernor is
    IWattGovernance,
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl,
    GovernorPreventLateQuorum
{
    // ---------------------------------------------------------------- constants
    uint256 public constant MIN_VOTING_DELAY = 1 minutes;
    uint256 public constant MAX_VOTING_DELAY = 30 days;
    uint256 public constant MIN_VOTING_PERIOD = 5 minutes;
    uint256 public constant MAX_VOTING_PERIOD = 60 days;
    /// @notice At most 1 % of WATT's 1e9 cap: proposing never needs more than a whale holds.
    uint256 public constant MAX_PROPOSAL_THRESHOLD = 10_000_000e18;
    /// @notice Quorum in percent of the supply: at least 1 %, at most 50 % (reachable).
    uint256 public constant MIN_QUORUM_NUMERATOR = 1;
    uint256 public constant MAX_QUORUM_NUMERATOR = 50;
    /// @notice Late-quorum protection stays on: at least a minute, at most 30 days.
    uint256 public constant MIN_LATE_QUORUM_EXTENSION = 1 minutes;
    uint256 public constant MAX_LATE_QUORUM_EXTENSION = 30 days;

    // ---------------------------------------------------------------- constructor
    /// @param token WATT (ERC20Votes, timestamp clock).
    /// @param timelock The WattTimelock that executes passed proposals.
    /// @param votingDelay Seconds between proposing and the start of voting.
    /// @param votingPeriod Seconds voting stays open.
    /// @param proposalThreshold Votes (WATT wei) needed to propose.
    /// @param quorumNumerator Quorum in percent of the total supply at the vote's snapshot.
    /// @param lateQuorumExtension Seconds voting stays open at least after quorum is reached.
    constructor(
        IVotes token,
        TimelockController timelock,
        uint48 votingDelay,
        uint32 votingPeriod,
        uint256 proposalThreshold,
        uint256 quorumNumerator,
        uint48 lateQuorumExtension
    )
        Governor("WattNet Governor")
        GovernorSettings(votingDelay, votingPeriod, proposalThreshold)
        GovernorVotes(token)
        GovernorVotesQuorumFraction(quorumNumerator)
        GovernorTimelockControl(timelock)
        GovernorPreventLateQuorum(lateQuorumExtension)
    {}

    // ---------------------------------------------------------------- views (overrides)
    /// @notice Seconds between proposing and the start of voting.
    function votingDelay() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingDelay();
    }

    /// @notice Seconds voting stays open (before any late-quorum extension).
    function votingPeriod() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingPeriod();
    }

    /// @notice Votes needed to propose.
    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    /// @notice Votes needed for quorum at `timepoint` (a timestamp).
    function quorum(uint256 timepoint)
        public
        view
        override(Governor, GovernorVotesQuorumFraction)
        returns (uint256)
    {
        return super.quorum(timepoint);
    }

    /// @notice A proposal's state, including the timelock's queued/executed/cancelled view.
    function state(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (ProposalState)
    {
        return super.state(proposalId);
    }

    /// @notice Every proposal goes through the timelock.
    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    /// @notice A proposal's deadline, extended when quorum is reached late.
    function proposalDeadline(uint256 proposalId)
        public
        view
        override(Governor, GovernorPreventLateQuorum)
        returns (uint256)
    {
        return super.proposalDeadline(proposalId);
    }

    // ---------------------------------------------------------------- internal (bounds)
    function _setVotingDelay(uint48 newVotingDelay) internal override {
        _checkBounds("votingDelay", newVotingDelay, MIN_VOTING_DELAY, MAX_VOTING_DELAY);
        super._setVotingDelay(newVotingDelay);
    }

    function _setVotingPeriod(uint32 newVotingPeriod) internal override {
        _checkBounds("votingPeriod", newVotingPeriod, MIN_VOTING_PERIOD, MAX_VOTING_PERIOD);
        super._setVotingPeriod(newVotingPeriod);
    }

    function _setProposalThreshold(uint256 newProposalThreshold) internal override {
        _checkBounds("proposalThreshold", newProposalThreshold, 0, MAX_PROPOSAL_THRESHOLD);
        super._setProposalThreshold(newProposalThreshold);
    }

    function _updateQuorumNumerator(uint256 newQuorumNumerator) internal override {
        _checkBounds("quorumNumerator", newQuorumNumerator, MIN_QUORUM_NUMERATOR, MAX_QUORUM_NUMERATOR);
        super._updateQuorumNumerator(newQuorumNumerator);
    }

    function _setLateQuorumVoteExtension(uint48 newVoteExtension) internal override {
        _checkBounds(
            "lateQuorumExtension", newVoteExtension, MIN_LATE_QUORUM_EXTENSION, MAX_LATE_QUORUM_EXTENSION
        );
        super._setLateQuorumVoteExtension(newVoteExtension);
    }

    function _checkBounds(bytes32 setting, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert GovernanceParameterOutOfBounds(setting, value, min, max);
    }

    // ---------------------------------------------------------------- internal (overrides)
    function _tallyUpdated(uint256 proposalId) internal override(Governor, GovernorPreventLateQuorum) {
        super._tallyUpdated(proposalId);
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }
}
