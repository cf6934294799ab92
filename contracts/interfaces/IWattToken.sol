// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IWattToken
/// @notice WATT: the reward and governance token (ERC-20, votes, permit, burnable, capped).
interface IWattToken {
    /// @notice Minting `amount` would lift the total supply above the hard cap.
    error WattCapExceeded(uint256 supply, uint256 amount, uint256 cap);

    /// @notice The hard cap on total supply, in wei.
    function cap() external view returns (uint256);

    /// @notice Mint `amount` to `to`; only the minter role (the rewards engine).
    function mint(address to, uint256 amount) external;

    /// @notice Burn `amount` of the caller's tokens.
    function burn(uint256 amount) external;
}
