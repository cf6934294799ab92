// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IOracleCommittee
/// @notice N staked oracle nodes; a settlement batch moves money only with k of their
///         signatures (checked by the ledger against the members this contract publishes), and
///         anyone may relay it. A node that signs two different batches for one nonce and round
///         is slashed by anyone who shows the two signatures.
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

    /// @notice What a judged finding does once k members signed it.
    /// @dev AttestLocation: `registry.attestLocation(subject, value != 0)` (a site visit or
    ///      location evidence). Forfeit: `rewards.forfeit(subject, value, evidence)` (the station's
    ///      escrowed rewards of epoch `value`, after a fraud verdict). Freeze: `staking.freeze(
    ///      address(uint160(uint256(subject))), evidence)` (the operator's stake held while
    ///      governance votes on a slash).
    enum FindingKind {
        AttestLocation,
        Forfeit,
        Freeze
    }

    /// @param kind What it does.
    /// @param subject A station id (AttestLocation, Forfeit) or an operator address (Freeze).
    /// @param value 0/1 (AttestLocation) or an epoch (Forfeit); 0 for Freeze.
    /// @param evidence keccak256 of the evidence document the signers judged (kept off chain
    ///        by every node; the hash is in the event and, for Forfeit and Freeze, the reason).
    /// @param id Distinguishes findings of equal content (each executes once).
    /// @param deadline Unix seconds after which the signatures are stale.
    struct Finding {
        FindingKind kind;
        bytes32 subject;
        uint256 value;
        bytes32 evidence;
        uint64 id;
        uint40 deadline;
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
    error CommitteeBadSignatures();
    error CommitteeTooFewSigners(uint256 signers, uint256 threshold);
    error CommitteeNotEquivocation();
    error CommitteeNothingToSlash(address nodeKey);
    error CommitteeReceiptNotBad(uint256 index);
    error CommitteeNotSigned(address nodeKey);
    error CommitteeFindingExpired(uint256 deadline);
    error CommitteeFindingUsed(bytes32 findingHash);
    error CommitteeBadFindingValue(uint256 value);

    event NodeRegistered(address indexed nodeKey, address indexed operator, uint256 stake);
    event NodeStaked(address indexed nodeKey, uint256 amount);
    event NodeAdmitted(address indexed nodeKey);
    event NodeRemoved(address indexed nodeKey);
    event NodeUnbonding(address indexed nodeKey, uint256 until);
    event NodeWithdrawn(address indexed nodeKey, address indexed operator, uint256 amount);
    event NodeSlashed(address indexed nodeKey, uint64 indexed nonce, address indexed prover,
        uint256 amount, uint256 bounty);
    event FindingActed(bytes32 indexed findingHash, FindingKind indexed kind, bytes32 indexed subject,
        uint256 value, bytes32 evidence, uint256 signers, bool effective);
    event ThresholdSet(uint256 threshold);
    event ParamsSet(uint256 minStake, uint256 unbondingDelay, uint256 bountyBps);

    /// @notice The EIP-712 digest a node signs for batch `nonce`, proposed in `round`, with
    ///         content hash `batchHash`: under the ledger's domain, which checks it
    ///         (`EnergyCredits.settleSigned`).
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

    /// @notice Slash `nodeKey`: it signed batch `nonce`/`round` (signature `sig` over
    ///         `batchDigest(nonce, round, keccak256(packed))`) although receipt `index` of
    ///         `packed` was never signed by a key of its station (or the batch does not decode
    ///         up to it), which every node checks before it signs.
    function proveBadReceipt(
        address nodeKey,
        uint64 nonce,
        uint32 round,
        bytes calldata packed,
        bytes calldata sig,
        uint256 index
    ) external;

    /// @notice Execute a judged finding with at least `threshold` member signatures over
    ///         `findingDigest(f)` (65 bytes each, signers ascending). Anyone may relay; each
    ///         finding executes once, before its deadline. Returns whether it took effect
    ///         (a forfeit of an epoch already claimed or out of its window does not).
    function act(Finding calldata f, bytes calldata signatures) external returns (bool effective);

    /// @notice The EIP-712 digest members sign for finding `f`.
    function findingDigest(Finding calldata f) external view returns (bytes32);

    function threshold() external view returns (uint8);
    function members() external view returns (address[] memory);

    /// @notice `abi.encodePacked(uint8 threshold, address[] members)`, members ascending: what a
    ///         relayer passes to `EnergyCredits.settleSigned` (its hash is published there).
    function committee() external view returns (bytes memory);
    function nodeOf(address nodeKey) external view returns (Node memory);
}
