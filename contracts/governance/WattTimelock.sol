// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

import {IWattGovernance} from "../interfaces/IWattGovernance.sol";

/// @title WattTimelock
/// @notice Executes passed WattGovernor proposals after `minDelay` seconds. After deployment it
///         holds DEFAULT_ADMIN_ROLE and PARAMS_ROLE on every WattNet contract, the governor is its
///         only proposer and canceller, and it administers itself (no admin account).
/// @dev A thin subclass of OpenZeppelin's TimelockController so the project has an artifact.
///      Invariant: MIN_DELAY <= getMinDelay() <= MAX_DELAY (at construction and on updateDelay).
contract WattTimelock is IWattGovernance, TimelockController {
    // ---------------------------------------------------------------- constants
    uint256 public constant MIN_DELAY = 1 minutes;
    uint256 public constant MAX_DELAY = 30 days;

    // ---------------------------------------------------------------- constructor
    /// @param minDelay Seconds between queueing and executing an operation.
    /// @param proposers Accounts granted PROPOSER_ROLE and CANCELLER_ROLE.
    /// @param executors Accounts granted EXECUTOR_ROLE (address(0): anyone may execute).
    /// @param admin Optional bootstrap admin (address(0) for none); renounced after set-up.
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {
        _checkDelay(minDelay);
    }

    // ---------------------------------------------------------------- external
    /// @notice Change the minimum delay; only the timelock itself (a passed proposal).
    function updateDelay(uint256 newDelay) public override {
        super.updateDelay(newDelay); // reverts for any caller but the timelock first
        _checkDelay(newDelay);
    }

    // ---------------------------------------------------------------- internal
    function _checkDelay(uint256 delay) internal pure {
        if (delay < MIN_DELAY || delay > MAX_DELAY) {
            revert GovernanceParameterOutOfBounds("minDelay", delay, MIN_DELAY, MAX_DELAY);
        }
    }
}
