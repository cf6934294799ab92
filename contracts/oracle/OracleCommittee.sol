// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IOperatorStaking} from "../interfaces/IOperatorStaking.sol";
import {IOracleCommittee} from "../interfaces/IOracleCommittee.sol";
import {ISessionSettlement} from "../interfaces/ISessionSettlement.sol";
import {IStationRegistry} from "../interfaces/IStationRegistry.sol";
import {ReceiptLib} from "../libraries/ReceiptLib.sol";

/// @dev The registry's staking getter (a public immutable, not in IStationRegistry).
interface IRegistryStaking {
    function staking() external view returns (IOperatorStaking);
}

/// @title OracleCommittee
/// @notice The settlement's oracle as k of n staked nodes. It holds EnergyCredits'
///         COMMITTEE_ROLE and publishes there the hash of its threshold and members after every
///         change; the ledger's `settleSigned` settles a batch only with at least `threshold`
///         member signatures over the EIP-712 digest of (nonce, round, keccak256(batch)) under
///         the ledger's domain (chain id, ledger address), and once it took over nobody holds
///         ORACLE_ROLE. Nonces are consumed in order, one batch each, so a signed batch settles
///         at most once; `round` is the proposer's turn at the nonce (a node signs one batch per
///         nonce and round, so a stalled round never blocks the nonce: the next proposer's round
///         carries its own batch, and the receipts' settled bits keep any receipt from being
///         paid twice whichever batch wins). A batch signed but not relayed before a rotation
///         still counts the signatures of the members left; short of k, the new set signs it
///         again at the same nonce (its receipts live in every node's store), so nothing is
///         stranded.
/// @dev Governance (the timelock, GOVERNOR_ROLE) admits and removes nodes and sets the
///      threshold and bounded parameters; operators register a node key (with the key's own
///      signature, so nobody can squat it), stake, resign and withdraw after unbonding. Anyone
///      may prove equivocation (two batch hashes signed for one nonce and round) or a bad receipt
///      (a signed batch holding a receipt no key of its station ever signed) and take the
///      bounty, except the node's own operator and key. Judged findings (location attestation,
///      forfeit, freeze) execute through `act` with k signatures: the committee holds
///      ATTESTER_ROLE, FINDINGS_ROLE and FREEZER_ROLE next to governance.
contract OracleCommittee is IOracleCommittee, AccessControl, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    bytes32 public constant BATCH_TYPEHASH = keccak256("SettleBatch(uint64 nonce,uint32 round,bytes32 batchHash)");
    bytes32 public constant FINDING_TYPEHASH = keccak256(
        "Finding(uint8 kind,bytes32 subject,uint256 value,bytes32 evidence,uint64 id,uint40 deadline)"
    );
    bytes32 public constant NODE_TYPEHASH = keccak256("NodeBinding(address operator)");
    /// @notice Committee size bound (the issue's 3..31: 31 keeps a batch's signatures small;
    ///         fewer than 3 is allowed only while the committee is being formed).
    uint256 public constant MAX_MEMBERS = 31;
    uint256 public constant MIN_STAKE_FLOOR = 1_000e18;
    uint256 public constant MAX_STAKE_CEILING = 10_000_000e18;
    uint256 public constant MIN_UNBONDING = 7 days;
    uint256 public constant MAX_UNBONDING = 90 days;
    uint256 public constant MAX_BOUNTY_BPS = 5_000;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant SIG = 65;
    uint256 internal constant ADDRESS = 20;

    IERC20 public immutable watt;
    ISessionSettlement public immutable settlement;
    address public immutable treasury;

    mapping(address nodeKey => Node) internal _nodes;
    address[] internal _members;
    /// @notice Signatures a batch or a finding needs.
    uint8 public threshold;
    uint256 public minStake;
    uint256 public unbondingDelay;
    uint256 public bountyBps;
    /// @notice Findings already executed, by EIP-712 struct hash.
    mapping(bytes32 findingHash => bool) public findingUsed;

    constructor(
        IERC20 watt_,
        ISessionSettlement settlement_,
        address treasury_,
        address governor,
        uint256 minStake_,
        uint256 unbondingDelay_,
        uint256 bountyBps_
    ) EIP712("WattNet Oracle Committee", "1") {
        if (address(watt_) == address(0) || address(settlement_) == address(0) || treasury_ == address(0)
            || governor == address(0)) revert CommitteeZeroAddress();
        watt = watt_;
        settlement = settlement_;
        treasury = treasury_;
        _grantRole(DEFAULT_ADMIN_ROLE, governor);
        _grantRole(GOVERNOR_ROLE, governor);
        _setParams(minStake_, unbondingDelay_, bountyBps_);
        threshold = 1;
        emit ThresholdSet(1);
    }

    // ---------------------------------------------------------------- batches
    /// @inheritdoc IOracleCommittee
    function batchDigest(uint64 nonce, uint32 round, bytes32 batchHash) external view returns (bytes32) {
        return _batchDigest(nonce, round, batchHash);
    }

    /// @dev Batches are signed under the ledger's domain, which checks them (settleSigned).
    function _batchDigest(uint64 nonce, uint32 round, bytes32 batchHash) internal view returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(
            settlement.domainSeparator(), keccak256(abi.encode(BATCH_TYPEHASH, nonce, round, batchHash))
        );
    }

    // ---------------------------------------------------------------- findings
    /// @inheritdoc IOracleCommittee
    function act(Finding calldata f, bytes calldata signatures) external nonReentrant returns (bool effective) {
        if (block.timestamp > f.deadline) revert CommitteeFindingExpired(f.deadline);
        bytes32 h = _findingHash(f);
        if (findingUsed[h]) revert CommitteeFindingUsed(h);
        uint256 signers = _countSigners(_hashTypedDataV4(h), signatures);
        uint256 k = threshold;
        if (signers < k) revert CommitteeTooFewSigners(signers, k);
        findingUsed[h] = true;
        // Interactions with the protocol's own contracts, after the effects.
        IStationRegistry registry = settlement.registry();
        if (f.kind == FindingKind.AttestLocation) {
            if (f.value > 1) revert CommitteeBadFindingValue(f.value);
            registry.attestLocation(f.subject, f.value == 1);
            effective = true;
        } else if (f.kind == FindingKind.Forfeit) {
            effective = settlement.rewards().forfeit(f.subject, f.value, f.evidence);
        } else {
            if (f.value != 0 || uint256(f.subject) >> 160 != 0) revert CommitteeBadFindingValue(f.value);
            IRegistryStaking(address(registry)).staking().freeze(address(uint160(uint256(f.subject))), f.evidence);
            effective = true;
        }
        emit FindingActed(h, f.kind, f.subject, f.value, f.evidence, signers, effective);
    }

    /// @dev Distinct members among the signers: signatures are 65 bytes each, their signers in
    ///      strictly ascending order (so no signer counts twice); any other signature reverts.
    function _countSigners(bytes32 digest, bytes calldata signatures) internal view returns (uint256 n) {
        if (signatures.length % SIG != 0) revert CommitteeBadSignatures();
        n = signatures.length / SIG;
        address previous = address(0);
        for (uint256 i; i < n; ++i) {
            address signer = ECDSA.recover(digest, signatures[i * SIG:(i + 1) * SIG]);
            if (signer <= previous || !_nodes[signer].member) revert CommitteeBadSignatures();
            previous = signer;
        }
    }

    /// @inheritdoc IOracleCommittee
    function findingDigest(Finding calldata f) external view returns (bytes32) {
        return _hashTypedDataV4(_findingHash(f));
    }

    function _findingHash(Finding calldata f) internal pure returns (bytes32) {
        return keccak256(abi.encode(FINDING_TYPEHASH, f.kind, f.subject, f.value, f.evidence, f.id, f.deadline));
    }

    /// @notice The EIP-712 digest a node key signs to bind itself to `operator`.
    function nodeDigest(address operator) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(NODE_TYPEHASH, operator)));
    }

    // ---------------------------------------------------------------- nodes
    /// @notice Register `nodeKey` for the caller with `amount` WATT; `proof` is the key's own
    ///         signature of `nodeDigest(msg.sender)`.
    function register(address nodeKey, uint256 amount, bytes calldata proof) external nonReentrant {
        if (nodeKey == address(0)) revert CommitteeZeroAddress();
        if (_nodes[nodeKey].operator != address(0)) revert CommitteeKeyTaken(nodeKey);
        if (ECDSA.recover(nodeDigest(msg.sender), proof) != nodeKey) revert CommitteeBadNodeProof(nodeKey);
        _nodes[nodeKey] = Node({operator: msg.sender, stake: SafeCast.toUint96(amount), unbondingAt: 0, member: false});
        emit NodeRegistered(nodeKey, msg.sender, amount);
        watt.safeTransferFrom(msg.sender, address(this), amount);
    }

    function addStake(address nodeKey, uint256 amount) external nonReentrant {
        Node storage node = _operated(nodeKey);
        if (node.unbondingAt != 0) revert CommitteeUnbonding(nodeKey, node.unbondingAt);
        node.stake = SafeCast.toUint96(uint256(node.stake) + amount);
        emit NodeStaked(nodeKey, amount);
        watt.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice The operator takes its node out (the rest must still reach the threshold), then
    ///         waits `unbondingDelay` before `withdraw`.
    function resign(address nodeKey) external {
        Node storage node = _operated(nodeKey);
        if (node.unbondingAt == 0) {
            node.unbondingAt = uint40(block.timestamp + unbondingDelay);
            emit NodeUnbonding(nodeKey, node.unbondingAt);
        }
        if (node.member) _removeMember(nodeKey); // last: it publishes to the ledger
    }

    function withdraw(address nodeKey) external nonReentrant {
        Node storage node = _operated(nodeKey);
        if (node.member) revert CommitteeStillMember(nodeKey);
        if (node.unbondingAt == 0 || block.timestamp < node.unbondingAt) {
            revert CommitteeUnbonding(nodeKey, node.unbondingAt);
        }
        uint256 amount = node.stake;
        delete _nodes[nodeKey];
        emit NodeWithdrawn(nodeKey, msg.sender, amount);
        watt.safeTransfer(msg.sender, amount);
    }

    function _operated(address nodeKey) internal view returns (Node storage node) {
        node = _nodes[nodeKey];
        if (node.operator == address(0)) revert CommitteeUnknownNode(nodeKey);
        if (node.operator != msg.sender) revert CommitteeNotOperator(nodeKey, msg.sender);
    }

    // ---------------------------------------------------------------- governance
    function admit(address nodeKey) external onlyRole(GOVERNOR_ROLE) {
        Node storage node = _nodes[nodeKey];
        if (node.operator == address(0)) revert CommitteeUnknownNode(nodeKey);
        if (node.member) revert CommitteeAlreadyMember(nodeKey);
        if (node.unbondingAt != 0) revert CommitteeUnbonding(nodeKey, node.unbondingAt);
        if (node.stake < minStake) revert CommitteeStakeTooLow(nodeKey, node.stake, minStake);
        if (_members.length == MAX_MEMBERS) revert CommitteeFull();
        node.member = true;
        // Ascending: the published list is canonical, and signers sorted by address are in
        // its order (settleSigned walks it once).
        _members.push(nodeKey);
        uint256 i = _members.length - 1;
        for (; i != 0 && _members[i - 1] > nodeKey; --i) {
            _members[i] = _members[i - 1];
        }
        _members[i] = nodeKey;
        emit NodeAdmitted(nodeKey);
        _publish();
    }

    /// @notice Idempotent (an already removed node is no error): a proposal that removes a
    ///         node a slash removed first still executes.
    function remove(address nodeKey) external onlyRole(GOVERNOR_ROLE) {
        if (_nodes[nodeKey].member) _removeMember(nodeKey);
    }

    function setThreshold(uint256 k) external onlyRole(GOVERNOR_ROLE) {
        if (k == 0 || k > _members.length) revert CommitteeParamOutOfBounds("threshold", k);
        threshold = uint8(k); // k <= MAX_MEMBERS
        emit ThresholdSet(k);
        _publish();
    }

    function setParams(uint256 minStake_, uint256 unbondingDelay_, uint256 bountyBps_)
        external
        onlyRole(GOVERNOR_ROLE)
    {
        _setParams(minStake_, unbondingDelay_, bountyBps_);
    }

    function _setParams(uint256 minStake_, uint256 unbondingDelay_, uint256 bountyBps_) internal {
        if (minStake_ < MIN_STAKE_FLOOR || minStake_ > MAX_STAKE_CEILING) {
            revert CommitteeParamOutOfBounds("minStake", minStake_);
        }
        if (unbondingDelay_ < MIN_UNBONDING || unbondingDelay_ > MAX_UNBONDING) {
            revert CommitteeParamOutOfBounds("unbondingDelay", unbondingDelay_);
        }
        if (bountyBps_ > MAX_BOUNTY_BPS) revert CommitteeParamOutOfBounds("bountyBps", bountyBps_);
        minStake = minStake_;
        unbondingDelay = unbondingDelay_;
        bountyBps = bountyBps_;
        emit ParamsSet(minStake_, unbondingDelay_, bountyBps_);
    }

    /// @dev Removing below the threshold is refused: lower the threshold first (a vote), so no
    ///      removal can halt settlement by accident. A slash removes regardless (safety first).
    function _removeMember(address nodeKey) internal {
        if (_members.length - 1 < threshold) revert CommitteeBelowThreshold(_members.length - 1, threshold);
        _dropMember(nodeKey);
    }

    function _dropMember(address nodeKey) internal {
        _nodes[nodeKey].member = false;
        uint256 last = _members.length - 1;
        uint256 i;
        while (_members[i] != nodeKey) ++i; // a member is in the list
        for (; i < last; ++i) {
            _members[i] = _members[i + 1]; // keep the order
        }
        _members.pop();
        emit NodeRemoved(nodeKey);
        _publish();
    }

    /// @dev Tell the ledger who may sign batches now: keccak256 of `committee()`. Every change of
    ///      the members or the threshold ends here, so a removed or slashed node's signature
    ///      stops counting in the same transaction.
    function _publish() internal {
        settlement.setCommittee(keccak256(committee()));
    }

    // ---------------------------------------------------------------- misbehaviour
    /// @inheritdoc IOracleCommittee
    function proveEquivocation(
        address nodeKey,
        uint64 nonce,
        uint32 round,
        bytes32 hashA,
        bytes calldata sigA,
        bytes32 hashB,
        bytes calldata sigB
    ) external nonReentrant {
        if (hashA == hashB) revert CommitteeNotEquivocation();
        if (ECDSA.recover(_batchDigest(nonce, round, hashA), sigA) != nodeKey
            || ECDSA.recover(_batchDigest(nonce, round, hashB), sigB) != nodeKey) {
            revert CommitteeNotEquivocation();
        }
        _slashNode(nodeKey, nonce);
    }

    /// @inheritdoc IOracleCommittee
    function proveBadReceipt(
        address nodeKey,
        uint64 nonce,
        uint32 round,
        bytes calldata packed,
        bytes calldata sig,
        uint256 index
    ) external nonReentrant {
        if (ECDSA.recover(_batchDigest(nonce, round, keccak256(packed)), sig) != nodeKey) {
            revert CommitteeNotSigned(nodeKey);
        }
        if (!_badReceipt(packed, index)) revert CommitteeReceiptNotBad(index);
        _slashNode(nodeKey, nonce);
    }

    /// @dev True when the batch does not decode up to receipt `index`, or that receipt's
    ///      signature does not recover to a key ever bound to its station. Both are facts of
    ///      the bytes and of append-only registry history, so an honest node (which checks the
    ///      station's signature before it signs) can never be proven bad later.
    function _badReceipt(bytes calldata packed, uint256 index) internal view returns (bool) {
        uint256 buf = ReceiptLib.newBuffer();
        (bool decodes, bool found, bytes32 r, bytes32 vs) = _receiptAt(buf, packed, index);
        if (!decodes) return true;
        if (!found) return false;
        // The receipt is in the buffer: is its signature one of its station's keys, ever?
        bytes32 digest = ReceiptLib.digest(settlement.domainSeparator(), ReceiptLib.structHashOf(buf));
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, r, vs);
        bytes32 stationId = bytes32(ReceiptLib.fieldOf(buf, ReceiptLib.BUF_STATION_ID));
        return err != ECDSA.RecoverError.NoError || !settlement.registry().everSigner(stationId, signer);
    }

    /// @dev Decode `packed` up to receipt `index` into `buf`: whether the bytes decode that far,
    ///      whether the receipt exists, and its signature.
    function _receiptAt(uint256 buf, bytes calldata packed, uint256 index)
        internal
        pure
        returns (bool decodes, bool found, bytes32 r, bytes32 vs)
    {
        uint256 p;
        uint256 end;
        assembly ("memory-safe") {
            p := packed.offset
            end := add(p, packed.length)
        }
        uint256 i;
        while (p < end) {
            (bool ok, uint256 next, uint256 count) = ReceiptLib.unpackGroup(buf, p, end);
            if (!ok) return (false, false, 0, 0);
            p = next;
            for (; count != 0; --count) {
                (ok, p, r, vs) = ReceiptLib.unpackReceipt(buf, p, end);
                if (!ok) return (false, false, 0, 0);
                if (i == index) return (true, true, r, vs);
                ++i;
            }
        }
        return (true, false, 0, 0);
    }

    /// @dev Take the node's whole stake (bounty to the prover unless it is the node's own
    ///      operator or key, the rest to the treasury) and drop it from the committee.
    function _slashNode(address nodeKey, uint64 nonce) internal {
        Node storage node = _nodes[nodeKey];
        uint256 amount = node.stake;
        if (amount == 0) revert CommitteeNothingToSlash(nodeKey);
        bool self = msg.sender == node.operator || msg.sender == nodeKey;
        uint256 bounty = self ? 0 : (amount * bountyBps) / BPS;
        node.stake = 0;
        if (node.unbondingAt == 0) node.unbondingAt = uint40(block.timestamp);
        emit NodeSlashed(nodeKey, nonce, msg.sender, amount, bounty);
        if (node.member) _dropMember(nodeKey); // publishes to the ledger (our own contract)
        if (bounty != 0) watt.safeTransfer(msg.sender, bounty);
        watt.safeTransfer(treasury, amount - bounty);
    }

    // ---------------------------------------------------------------- views
    function members() external view returns (address[] memory) {
        return _members;
    }

    /// @inheritdoc IOracleCommittee
    function committee() public view returns (bytes memory packed) {
        uint256 n = _members.length;
        packed = new bytes(1 + n * ADDRESS);
        packed[0] = bytes1(threshold);
        for (uint256 i; i < n; ++i) {
            bytes20 member = bytes20(_members[i]);
            assembly ("memory-safe") {
                mstore(add(add(packed, 33), mul(i, ADDRESS)), member)
            }
        }
    }

    function nodeOf(address nodeKey) external view returns (Node memory) {
        return _nodes[nodeKey];
    }
}
