// Interoperability test: an unmodified CosmJS client (SigningStargateClient +
// DirectSecp256k1HdWallet, SIGN_MODE_DIRECT) reads balances and sends tokens
// over CometBFT RPC. Runs against VirtEngine's localnet by default and against
// any Cosmos SDK chain with PREFIX/DENOM overridden (bench/baseline-localnet.sh).
//
// Env: RPC (default http://127.0.0.1:26657), ACCOUNTS (accounts.json:
// [{"name","address","mnemonic"}], needs "alice" and "bob"), CHAIN_ID (optional:
// asserted if set), DENOM (default uve), PREFIX (default ve).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { SigningStargateClient } from "@cosmjs/stargate";

const RPC = process.env.RPC || "http://127.0.0.1:26657";
const ACCOUNTS = process.env.ACCOUNTS;
const CHAIN_ID = process.env.CHAIN_ID || "";
const DENOM = process.env.DENOM || "uve";
const PREFIX = process.env.PREFIX || "ve";
const AMOUNT = 12345n;
const FEE = { amount: [{ denom: DENOM, amount: "5000" }], gas: "200000" };

let alice, bob, wallet, client;

function loadAccounts() {
  assert.ok(ACCOUNTS, "set ACCOUNTS to the chain's accounts.json");
  const list = JSON.parse(readFileSync(ACCOUNTS, "utf8"));
  assert.ok(Array.isArray(list), `${ACCOUNTS} must hold a JSON array`);
  const byName = (n) => {
    const a = list.find((x) => x.name === n);
    assert.ok(a && a.mnemonic && a.address, `account "${n}" with address and mnemonic in ${ACCOUNTS}`);
    return a;
  };
  return [byName("alice"), byName("bob")];
}

async function balance(address) {
  const coin = await client.getBalance(address, DENOM);
  assert.equal(coin.denom, DENOM);
  return BigInt(coin.amount);
}

before(async () => {
  [alice, bob] = loadAccounts();
  wallet = await DirectSecp256k1HdWallet.fromMnemonic(alice.mnemonic, { prefix: PREFIX });
  client = await SigningStargateClient.connectWithSigner(RPC, wallet);
});

after(() => client?.disconnect());

test("wallet derives alice's address from her mnemonic (m/44'/118'/0'/0/0)", async () => {
  const [account] = await wallet.getAccounts();
  assert.equal(account.address, alice.address);
  assert.ok(account.address.startsWith(PREFIX + "1"));
});

test("client connects to the chain", async () => {
  const chainId = await client.getChainId();
  if (CHAIN_ID) assert.equal(chainId, CHAIN_ID);
  assert.ok((await client.getHeight()) > 0);
});

test(`sendTokens alice -> bob ${AMOUNT} with an explicit fee is committed and moves exactly that amount`, async () => {
  const aliceBefore = await balance(alice.address);
  const bobBefore = await balance(bob.address);
  assert.ok(aliceBefore >= AMOUNT + 5000n, `alice needs funds, has ${aliceBefore}${DENOM}`);

  const res = await client.sendTokens(alice.address, bob.address,
    [{ denom: DENOM, amount: AMOUNT.toString() }], FEE, "cosmjs interop test");
  assert.equal(res.code, 0, `deliverTx code ${res.code}: ${res.rawLog ?? ""}`);
  assert.ok(res.height > 0);
  assert.match(res.transactionHash, /^[0-9A-F]{64}$/);

  const bobAfter = await balance(bob.address);
  assert.equal(bobAfter - bobBefore, AMOUNT, "bob's balance rose by exactly the amount sent");
  const aliceAfter = await balance(alice.address);
  assert.equal(aliceBefore - aliceAfter, AMOUNT + 5000n, "alice paid the amount plus the fee");

  const tx = await client.getTx(res.transactionHash);
  assert.ok(tx, "the committed tx can be fetched by hash");
  assert.equal(tx.height, res.height);
  assert.equal(tx.code, 0);
});

test("a send larger than alice's balance is rejected and moves nothing", async () => {
  const aliceBefore = await balance(alice.address);
  const bobBefore = await balance(bob.address);
  const tooMuch = (aliceBefore + 1n).toString();
  let code;
  try {
    const res = await client.sendTokens(alice.address, bob.address, [{ denom: DENOM, amount: tooMuch }], FEE);
    code = res.code;
  } catch (err) {
    code = -1; // rejected at CheckTx: CosmJS throws "Broadcasting transaction failed with code ..."
    assert.match(String(err?.message ?? err), /code|insufficient|funds/i);
  }
  assert.notEqual(code, 0);
  assert.equal(await balance(bob.address), bobBefore);
});
