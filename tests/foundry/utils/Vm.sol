// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The few Foundry cheatcodes the invariant suites use (forge-std is not vendored; the
///         addresses and signatures are forge's own, see Foundry's cheatcode reference).
interface Vm {
    function warp(uint256 newTimestamp) external;
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function label(address account, string calldata newLabel) external;
}

/// @notice The base every suite extends: the cheatcode handle and forge's invariant targets.
abstract contract InvariantBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    address[] private _targets;

    /// @dev Forge fuzzes only the contracts listed here (the handlers), never the protocol directly.
    function targetContracts() public view returns (address[] memory) {
        return _targets;
    }

    function _target(address handler) internal {
        _targets.push(handler);
    }
}
