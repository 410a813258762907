// Progressive enhancement only: the live estimate and the upgrade's state. Without it the
// forms still submit and the pages still render.
(function () {
  "use strict";
  // Amounts arrive as text formatted by the server (the currency's exponent is known there).
  const minutes = (m) => (m / 1440).toFixed(2) + " days";
  const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

  function upgradePage(form) {
    const panel = document.getElementById("estimate");
    const pay = document.getElementById("pay");
    let timer = null, expiry = null, seq = 0;
    // With the live estimate, Pay is offered only for an estimate shown on the page.
    pay.textContent = "Pay";
    pay.disabled = !form.estimate_id.value;
    document.getElementById("refresh").hidden = false;
    async function refresh() {
      const mine = ++seq;
      pay.disabled = true;
      form.estimate_id.value = "";
      delete panel.dataset.quote;
      delete panel.dataset.tier;
      const body = new FormData(form);
      const response = await fetch(form.dataset.estimateUrl, {
        method: "POST", body, headers: { "X-CSRF-Token": form.csrf_token.value } });
      const data = await response.json();
      if (mine !== seq) return;
      if (!response.ok) {
        panel.innerHTML = '<p class="error" role="alert">' + escape(data.error.message) + "</p>";
        return;
      }
      const b = data.breakdown;
      panel.innerHTML =
        '<p>To pay now: <span class="amount" id="amount">' + escape(data.text.amount) + "</span></p>" +
        (data.trial ? "<p>In trial: free, applied at once.</p>" : "") +
        "<dl><dt>New plan, unused part</dt><dd>" + escape(data.text.new_term) + " (" + minutes(b.new_unused_minutes) + " of " + minutes(b.new_total_minutes) + ")</dd>" +
        "<dt>Current plan, unused part</dt><dd>− " + escape(data.text.old_term) + " (" + minutes(b.old_unused_minutes) + " of " + minutes(b.old_total_minutes) + ")</dd>" +
        (b.discount ? "<dt>Discount " + escape(b.discount_code) + (b.discount_source === "stripe" ? " (Stripe promotion code)" : "") + "</dt><dd>− " + escape(data.text.discount) + "</dd>" : "") +
        "<dt>Next invoice</dt><dd>" + data.next_invoice.at.slice(0, 10) + ", " + escape(data.text.next_invoice) + "</dd>" +
        '<dt>Computed</dt><dd id="computed">' + data.computed_at.replace("T", " ").slice(0, 19) + " UTC</dd></dl>";
      form.estimate_id.value = data.id;
      panel.dataset.quote = data.requested.seats + "/" + data.requested.interval;
      panel.dataset.tier = data.requested.tier;
      expiry = Date.parse(data.expires_at);
      pay.disabled = false;
    }
    const soon = () => { clearTimeout(timer); timer = setTimeout(refresh, 250); };
    form.addEventListener("input", soon);
    document.getElementById("refresh").addEventListener("click", refresh);
    setInterval(() => {
      if (expiry && Date.now() >= expiry && !pay.disabled) {
        pay.disabled = true;
        panel.insertAdjacentHTML("beforeend", '<p class="error" role="alert" id="expired">This estimate expired: refresh it before paying.</p>');
      }
    }, 1000);
  }

  // The paid invoice: number, amount, date and Stripe's hosted page and PDF.
  async function showReceipt() {
    const box = document.getElementById("receipt");
    if (!box || !box.hidden) return;
    const r = (await (await fetch(box.dataset.url)).json()).receipt;
    if (!r) return;
    document.getElementById("receipt-number").textContent = r.number || r.invoice_id;
    document.getElementById("receipt-paid").textContent =
      r.amount_paid_text + (r.paid_at ? " on " + r.paid_at.slice(0, 10) : "");
    for (const [id, url] of [["hosted-invoice", r.hosted_invoice_url], ["invoice-pdf", r.invoice_pdf]]) {
      const link = document.getElementById(id);
      if (url) { link.href = url; link.hidden = false; }
    }
    box.hidden = false;
  }

  function statePage(section) {
    if (section.dataset.terminal === "yes") return;
    const poll = async () => {
      const data = await (await fetch(section.dataset.url)).json();
      const name = document.getElementById("state-name");
      name.textContent = data.state.replace(/_/g, " ");
      name.dataset.state = data.state;
      document.getElementById("history").innerHTML = data.history.map((h) =>
        "<li>" + h.at.slice(0, 19).replace("T", " ") + " " + h.to.replace(/_/g, " ") + ": " + escape(h.cause) + "</li>").join("");
      document.getElementById("retrying").hidden = !data.retrying;
      if (data.state === "payment_failed") {
        document.getElementById("failure-reason").textContent = data.failure ? data.failure.message : "";
        document.getElementById("failure").hidden = false;
      }
      const action = document.getElementById("action");
      if (data.payment_url) document.getElementById("complete-payment").href = data.payment_url;
      action.hidden = !data.payment_url;
      if (data.license) {
        document.getElementById("license-summary").textContent =
          "version " + data.license.version + ", " + data.license.seats + " seat(s), " + data.license.interval + "ly";
        document.getElementById("license").hidden = false;
      }
      if (data.state === "payment_failed") {  // another card helps only for a refused card
        const update = document.getElementById("update-card");
        if (update) update.hidden = !(data.failure && data.failure.kind === "card");
      }
      if (data.state === "applied") await showReceipt();
      if (!data.terminal) setTimeout(poll, 700);
    };
    setTimeout(poll, 500);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("upgrade");
    if (form) upgradePage(form);
    const section = document.getElementById("state");
    if (section) statePage(section);
  });
})();
