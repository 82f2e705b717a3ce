// The portal's only script: Sign-In with Ethereum (EIP-4361) through the wallet's
// window.ethereum, and the live part of a loan page, fetched every second.
"use strict";

function hexOf(text) {
  return "0x" + Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("");
}

// The EIP-4361 message, field by field as the standard lays it out.
function siweMessage(f) {
  return `${f.domain} wants you to sign in with your Ethereum account:\n${f.address}\n\n` +
    `${f.statement}\n\nURI: ${f.uri}\nVersion: 1\nChain ID: ${f.chainId}\n` +
    `Nonce: ${f.nonce}\nIssued At: ${f.issuedAt}\nExpiration Time: ${f.expirationTime}`;
}

async function signIn(status) {
  if (!window.ethereum) {
    status.textContent = "No Ethereum wallet found in this browser.";
    status.className = "status error";
    return;
  }
  status.className = "status";
  status.textContent = "Asking your wallet…";
  const [account] = await window.ethereum.request({ method: "eth_requestAccounts" });
  const reply = await fetch("/siwe/nonce?address=" + encodeURIComponent(account), { credentials: "same-origin" });
  const { nonce, chain_id: chainId, ttl, address } = await reply.json();
  const issued = new Date();
  const message = siweMessage({
    domain: window.location.host,
    address: address,
    statement: "Sign in to the loan servicing portal.",
    uri: window.location.origin + "/",
    chainId,
    nonce,
    issuedAt: issued.toISOString(),
    expirationTime: new Date(issued.getTime() + ttl * 1000).toISOString(),
  });
  const signature = await window.ethereum.request({ method: "personal_sign", params: [hexOf(message), account] });
  const verified = await fetch("/siwe/verify", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message, signature }),
  });
  const result = await verified.json();
  if (!verified.ok) {
    status.textContent = result.error;
    status.className = "status error";
    return;
  }
  window.location.assign(result.redirect);
}

function followLive(live) {
  const url = live.dataset.liveUrl;
  const every = Number(live.dataset.pollMs || 1000);
  let busy = false;
  let last = null;
  setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const reply = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (reply.ok) {
        const html = await reply.text();
        if (html !== last) {
          last = html;
          live.innerHTML = html;
        }
      }
    } finally {
      busy = false;
    }
  }, every);
}

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("sign-in");
  if (button) {
    const status = document.getElementById("sign-in-status");
    button.addEventListener("click", () => signIn(status).catch((e) => {
      status.textContent = "Sign-in failed: " + e.message;
      status.className = "status error";
    }));
  }
  const live = document.getElementById("live");
  if (live) followLive(live);
});
