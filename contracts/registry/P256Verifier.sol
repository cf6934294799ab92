// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";

/// @title P256Verifier
/// @notice Stateless ECDSA-P256 verification (OpenZeppelin `P256`: the RIP-7212 / EIP-7951
///         precompile where the chain has one, Solidity otherwise), for StationRegistry's meter
///         certificates and bindings.
/// @dev StationRegistry deploys it in its constructor and calls it, so that the Solidity
///      fallback (about 2.5 kB) stays out of the registry's runtime code, which is near the
///      24,576-byte limit. Pure function of its inputs; no storage, no roles.
contract P256Verifier {
    /// @notice Whether (`r`, `s`) is a valid low-s P-256 signature of `h` by the key (`qx`, `qy`).
    function verify(bytes32 h, bytes32 r, bytes32 s, bytes32 qx, bytes32 qy) external view returns (bool) {
        return P256.verify(h, r, s, qx, qy);
    }
}
