// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {IWattToken} from "../interfaces/IWattToken.sol";

/// @title WattToken (WATT)
/// @notice Reward and governance token. Votes use a timestamp clock (block numbers mean
///         different things on L2s such as Arbitrum).
/// @dev Invariant: totalSupply() <= cap at all times; only MINTER_ROLE (the rewards engine) mints.
contract WattToken is ERC20, ERC20Burnable, ERC20Permit, ERC20Votes, AccessControl, IWattToken {
    // ---------------------------------------------------------------- constants and roles
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    // ---------------------------------------------------------------- immutables
    /// @inheritdoc IWattToken
    uint256 public immutable cap;

    // ---------------------------------------------------------------- constructor
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (the timelock after deployment).
    /// @param cap_ Hard cap on total supply in wei.
    /// @param genesisRecipient Receives `genesisSupply` (treasury), may be zero if supply is zero.
    constructor(address admin, uint256 cap_, address genesisRecipient, uint256 genesisSupply)
        ERC20("WattNet", "WATT")
        ERC20Permit("WattNet")
    {
        if (genesisSupply > cap_) revert WattCapExceeded(0, genesisSupply, cap_);
        cap = cap_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (genesisSupply > 0) _mint(genesisRecipient, genesisSupply);
    }

    // ---------------------------------------------------------------- external
    /// @inheritdoc IWattToken
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        uint256 supply = totalSupply();
        if (supply + amount > cap) revert WattCapExceeded(supply, amount, cap);
        _mint(to, amount);
    }

    /// @inheritdoc IWattToken
    function burn(uint256 amount) public override(ERC20Burnable, IWattToken) {
        super.burn(amount);
    }

    // ---------------------------------------------------------------- views
    /// @notice Votes are checkpointed by timestamp (EIP-6372).
    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice EIP-6372 clock description.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    // ---------------------------------------------------------------- internal
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }
}
