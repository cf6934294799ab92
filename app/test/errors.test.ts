import { describe, expect, it } from "vitest";
import { ContractFunctionExecutionError, ContractFunctionRevertedError, encodeErrorResult, UserRejectedRequestError } from "viem";
import { energyCreditsAbi } from "../src/abi/contracts";
import { explainError } from "../src/errors";

describe("explainError", () => {
  it("names the contract's custom error with its values", () => {
    const data = encodeErrorResult({ abi: energyCreditsAbi, errorName: "CreditsAmountTooLarge", args: [5n, 3n] });
    const revert = new ContractFunctionRevertedError({ abi: energyCreditsAbi, data, functionName: "buy" });
    const err = new ContractFunctionExecutionError(revert, { abi: energyCreditsAbi, functionName: "buy", args: [] });
    expect(explainError(err)).toBe("The contract refused: CreditsAmountTooLarge (amount=5, max=3).");
  });
  it("says the user cancelled", () => {
    expect(explainError(new UserRejectedRequestError(new Error("no")))).toMatch(/cancelled/);
    expect(explainError({ code: 4001, message: "User rejected" })).toMatch(/cancelled/);
  });
});
