// A WalletConnect v2 wallet for the browser tests: @walletconnect/sign-client (app/'s devDependency)
// on the local relay (tests/web/wc_relay.py), holding one anvil test key. It pairs with the URI
// it is given, approves the proposed session for the chain the dapp asks for, and answers
// personal_sign, eth_signTypedData_v4 and eth_sendTransaction with that key (transactions sent
// to anvil). One JSON line on stdout per thing that happened, for the test to read.
//
//   node wc_wallet.cjs APP_DIR RELAY_URL RPC_URL PRIVATE_KEY WC_URI [refuse]
// With "refuse" the person refuses every request (WalletConnect's USER_REJECTED, 5000).
const { createRequire } = require("node:module");

const [appDir, relayUrl, rpcUrl, key, uri, mode] = process.argv.slice(2);
const need = createRequire(`${appDir}/package.json`);
const { SignClient } = need("@walletconnect/sign-client");
const { createWalletClient, http } = need("viem");
const { privateKeyToAccount } = need("viem/accounts");

const say = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const account = privateKeyToAccount(key);

/** In-memory storage: nothing of the wallet outlives the test. */
class MemoryStorage {
  constructor() { this.items = new Map(); }
  async getKeys() { return [...this.items.keys()]; }
  async getEntries() { return [...this.items.entries()]; }
  async getItem(k) { return this.items.get(k); }
  async setItem(k, v) { this.items.set(k, v); }
  async removeItem(k) { this.items.delete(k); }
}

async function answer(chainId, { method, params }) {
  const wallet = createWalletClient({ account, transport: http(rpcUrl), chain: { id: chainId, name: "test", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } } });
  if (method === "personal_sign") return wallet.signMessage({ message: { raw: params[0] } });
  if (method === "eth_signTypedData_v4") {
    const typed = typeof params[1] === "string" ? JSON.parse(params[1]) : params[1];
    const { EIP712Domain: _, ...types } = typed.types;
    return wallet.signTypedData({ domain: typed.domain, types, primaryType: typed.primaryType, message: typed.message });
  }
  if (method === "eth_sendTransaction") {
    const tx = params[0];
    if (tx.from && tx.from.toLowerCase() !== account.address.toLowerCase()) throw new Error("unknown account");
    return wallet.sendTransaction({
      to: tx.to, data: tx.data ?? tx.input, value: tx.value ? BigInt(tx.value) : undefined,
      gas: tx.gas ? BigInt(tx.gas) : undefined,
    });
  }
  throw new Error(`this test wallet does not answer ${method}`);
}

async function main() {
  const client = await SignClient.init({
    projectId: "wattnet-test", relayUrl, storage: new MemoryStorage(), telemetryEnabled: false,
    metadata: { name: "WattNet test wallet", description: "browser tests", url: "http://127.0.0.1", icons: [] },
  });
  client.on("session_proposal", async ({ id, params }) => {
    const asked = { ...params.optionalNamespaces, ...params.requiredNamespaces }.eip155;
    const chains = asked?.chains ?? [];
    say({ event: "proposal", chains, methods: asked?.methods ?? [] });
    const { acknowledged } = await client.approve({
      id,
      namespaces: { eip155: { chains, methods: asked.methods, events: asked.events ?? [], accounts: chains.map((c) => `${c}:${account.address}`) } },
    });
    const session = await acknowledged();
    say({ event: "approved", topic: session.topic, account: account.address });
  });
  client.on("session_request", async ({ id, topic, params }) => {
    const chainId = Number(params.chainId.split(":")[1]);
    say({ event: "request", method: params.request.method });
    try {
      if (mode === "refuse") throw Object.assign(new Error("User rejected."), { code: 5000 });
      const result = await answer(chainId, params.request);
      await client.respond({ topic, response: { id, jsonrpc: "2.0", result } });
      say({ event: "answered", method: params.request.method, result });
    } catch (err) {
      await client.respond({ topic, response: { id, jsonrpc: "2.0", error: { code: err.code ?? -32000, message: String(err.message ?? err) } } });
      say({ event: "refused", method: params.request.method, error: String(err.message ?? err) });
    }
  });
  await client.pair({ uri });
  say({ event: "paired" });
}

main().catch((err) => {
  say({ event: "failed", error: String(err?.stack ?? err) });
  process.exit(1);
});
