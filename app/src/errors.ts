// Every failure shown to a person in plain words: the decoded contract error with its values,
// a cancelled wallet request, a wrong network, an unreachable node.
import { BaseError, ContractFunctionRevertedError, UserRejectedRequestError } from "viem";

function formatArg(v: unknown): string {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return `[${v.map(formatArg).join(", ")}]`;
  return String(v);
}

export function explainError(err: unknown): string {
  if (err instanceof BaseError) {
    const rejected = err.walk((e) => e instanceof UserRejectedRequestError);
    if (rejected) return "You cancelled the request in your wallet.";
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) {
      const name = revert.data?.errorName ?? revert.reason ?? "an unknown error";
      const args = revert.data?.args ?? [];
      const inputs = revert.data?.abiItem && "inputs" in revert.data.abiItem ? revert.data.abiItem.inputs : [];
      const shown = args.map((a, i) => `${inputs[i]?.name || `arg${i}`}=${formatArg(a)}`).join(", ");
      return `The contract refused: ${name}${shown ? ` (${shown})` : ""}.`;
    }
    return err.shortMessage;
  }
  if (typeof err === "object" && err !== null && (err as { code?: unknown }).code === 4001) {
    return "You cancelled the request in your wallet.";
  }
  return err instanceof Error ? err.message : String(err);
}
