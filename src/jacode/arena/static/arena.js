// jacode arena client. Model output is never inserted as HTML while streaming (textContent only); the final
// rendering comes from the server's sanitizing Markdown renderer. No inline scripts: the page's CSP forbids them.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("ask"), prompt = $("prompt"), status = $("status");
  const voteButtons = Array.from(document.querySelectorAll("#votes button"));
  let battle = null, finished = 0, composing = false;

  // Japanese IME: Enter confirms a conversion; it must not submit. Track composition explicitly as well as
  // isComposing/keyCode 229, which some browsers report inconsistently.
  prompt.addEventListener("compositionstart", () => { composing = true; });
  prompt.addEventListener("compositionend", () => { composing = false; });
  prompt.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !composing && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  function setVoting(enabled) { voteButtons.forEach((b) => { b.disabled = !enabled; }); }

  function streamSide(side) {
    const box = $("answer-" + side);
    box.textContent = "";
    box.classList.remove("rendered");
    const source = new EventSource(`/api/battles/${battle}/stream/${side}`);
    source.addEventListener("delta", (e) => { box.textContent += JSON.parse(e.data).text; });
    source.addEventListener("done", (e) => {
      source.close();
      box.innerHTML = JSON.parse(e.data).html;  // sanitized on the server (raw HTML disabled, unsafe links refused)
      box.classList.add("rendered");
      finished += 1;
      if (finished === 2) { setVoting(true); status.textContent = "投票してください。"; }
    });
    source.addEventListener("failure", (e) => {
      source.close();
      box.textContent = JSON.parse(e.data).message;
      status.textContent = "モデルの応答に失敗しました。";
    });
    source.onerror = () => {  // refused (429: the arena is busy) or cut off: say so, never leave it looking done
      source.close();
      status.textContent = "回答を受け取れませんでした（混雑している可能性があります）。少し待ってから再読み込みしてください。";
    };
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = prompt.value.trim();
    if (!text) return;
    setVoting(false);
    $("name-a").textContent = ""; $("name-b").textContent = "";
    status.textContent = "回答を生成しています…";
    const resp = await fetch("/api/battles", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ prompt: text }),
    });
    if (!resp.ok) { status.textContent = "エラー: " + (await resp.json()).detail; return; }
    battle = (await resp.json()).battle;
    finished = 0;
    streamSide("a");
    streamSide("b");
  });

  voteButtons.forEach((button) => button.addEventListener("click", async () => {
    setVoting(false);
    const resp = await fetch(`/api/battles/${battle}/vote`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ vote: button.dataset.vote }),
    });
    const data = await resp.json();
    if (!resp.ok) { status.textContent = "エラー: " + data.detail; return; }
    $("name-a").textContent = data.model_a;
    $("name-b").textContent = data.model_b;
    status.textContent = "投票を記録しました。";
  }));
})();
