// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IOracleCommittee
/// @notice N staked oracle nodes; a settlement batch moves money only with k of their
///         signatures, and anyone may relay it. A node that signs two different batches for one
///         nonce and round is slashed by anyone who shows the two signatures.
interface IOracleCommittee {
    /// @param operator Who staked for the node and may withdraw its stake.
    /// @param stake WATT bonded behind the node (slashable until withdrawn).
    /// @param unbondingAt 0, or when the stake of a node that left may be withdrawn.
    /// @param member Whether its signatures count now.
    struct Node {
        address operator;
        uint96 stake;
        uint40 unbondingAt;
        bool member;
    }

    error CommitteeZeroAddress();
    error CommitteeParamOutOfBounds(bytes32 param, uint256 value);
    error CommitteeUnknownNode(address nodeKey);
    error CommitteeNotOperator(address nodeKey, address caller);
    error CommitteeKeyTaken(address nodeKey);
    error CommitteeBadNodeProof(address nodeKey);
    error CommitteeStakeTooLow(address nodeKey, uint256 stake, uint256 minStake);
    error CommitteeAlreadyMember(address nodeKey);
    error CommitteeNotMember(address nodeKey);
    error CommitteeFull();
    error CommitteeBelowThreshold(uint256 members, uint256 threshold);
    error CommitteeStillMember(address nodeKey);
    error CommitteeUnbonding(address nodeKey, uint256 until);
    error CommitteeWrongNonce(uint64 nonce, uint64 expected);
    error CommitteeBadSignatures();
    error CommitteeTooFewSigners(uint256 signers, uint256 threshold);
    error CommitteeNotEquivocation();
    error CommitteeNothingToSlash(address nodeKey);

    event NodeRegistered(address indexed nodeKey, address indexed operator, uint256 stake);
    event NodeStaked(address indexed nodeKey, uint256 amount);
    event NodeAdmitted(address indexed nodeKey);
    event NodeRemoved(address indexed nodeKey);
    event NodeUnbonding(address indexed nodeKey, uint256 until);
    event NodeWithdrawn(address indexed nodeKey, address indexed operator, uint256 amount);
    event NodeSlashed(address indexed nodeKey, uint64 indexed nonce, address indexed prover,
        uint256 amount, uint256 bounty);
    event ThresholdSet(uint256 threshold);
    event ParamsSet(uint256 minStake, uint256 unbondingDelay, uint256 bountyBps);
    event BatchRelayed(uint64 indexed nonce, bytes32 indexed batchHash, address relayer,
        uint256 signers, uint256 settled);

    /// @notice Settle `packed` (EnergyCredits.settlePacked encoding) as batch `nonce` with the
    ///         signatures of at least `threshold` members over
    ///         `batchDigest(nonce, round, keccak256(packed))`, 65 bytes each, signers in strictly
    ///         ascending address order. Anyone may relay. `round` is the proposer's turn at this
    ///         nonce (a node signs one batch per nonce and round; a later round may carry another
    ///         batch when the first stalled, and at most one batch per nonce ever settles).
    function settle(bytes calldata packed, uint64 nonce, uint32 round, bytes calldata signatures)
        external
        returns (uint256 settled);

    /// @notice The EIP-712 digest a node signs for batch `nonce`, proposed in `round`, with
    ///         content hash `batchHash`.
    function batchDigest(uint64 nonce, uint32 round, bytes32 batchHash) external view returns (bytes32);

    /// @notice Slash `nodeKey`: it signed two different batch hashes for one nonce and round.
    function proveEquivocation(
        address nodeKey,
        uint64 nonce,
        uint32 round,
        bytes32 hashA,
        bytes calldata sigA,
        bytes32 hashB,
        bytes calldata sigB
    ) external;

    function threshold() external view returns (uint8);
    function nextNonce() external view returns (uint64);
    function members() external view returns (address[] memory);
    function nodeOf(address nodeKey) external view returns (Node memory);
}
