// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title WattTimelock
/// @notice Executes passed WattGovernor proposals after `minDelay` seconds. After deployment it
///         holds DEFAULT_ADMIN_ROLE and PARAMS_ROLE on every WattNet contract, the governor is its
///         only proposer and canceller, and it administers itself (no admin account).
/// @dev A thin subclass of OpenZeppelin's TimelockController so the project has an artifact.
contract WattTimelock is TimelockController {
    // ---------------------------------------------------------------- constructor
    /// @param minDelay Seconds between queueing and executing an operation.
    /// @param proposers Accounts granted PROPOSER_ROLE and CANCELLER_ROLE.
    /// @param executors Accounts granted EXECUTOR_ROLE (address(0): anyone may execute).
    /// @param admin Optional bootstrap admin (address(0) for none); renounced after set-up.
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
