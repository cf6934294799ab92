// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ISafe
/// @notice The part of a Safe multisig (Safe 1.3.0 / 1.4.1, `Safe` or `SafeL2`) that WattNet's
///         tools use when a guardian or a proposer is a Safe: read its owners, threshold and
///         nonce, and execute a transaction signed by enough owners (`wattnet params ... --safe`,
///         src/wattnet/governance/safe.py). Not implemented here: the Safe contracts are
///         deployed from their npm package, safe-contracts of safe-global.
interface ISafe {
    /// @notice Executes `to.call{value: value}(data)` (operation 0) once `signatures` hold
    ///         `getThreshold()` owner signatures of the EIP-712 SafeTx hash, sorted by owner.
    /// @dev Reverts "GS013" when the inner call fails with `safeTxGas` and `gasPrice` both 0,
    ///      "GS020"/"GS026" when signatures are too short or not by owners. The owners sign
    ///      `getTransactionHash(...)` of the same fields and the nonce (EIP-712 `SafeTx`).
    function execTransaction(
        address to,
        uint256 value,
        bytes calldata data,
        uint8 operation,
        uint256 safeTxGas,
        uint256 baseGas,
        uint256 gasPrice,
        address gasToken,
        address payable refundReceiver,
        bytes memory signatures
    ) external payable returns (bool success);

    /// @notice The nonce the next executed transaction must carry.
    function nonce() external view returns (uint256);

    /// @notice How many owner signatures a transaction needs.
    function getThreshold() external view returns (uint256);

    /// @notice The owners.
    function getOwners() external view returns (address[] memory);
}
