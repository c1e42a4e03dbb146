package ui_test

import (
	"context"
	"fmt"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// contrastCheck lists text whose colour against its background is below
// WCAG 2.1 AA: 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold). The
// colours are the computed CSS ones: the background is the stack of
// ancestors' background colours down to the first opaque one, blended,
// and the text colour is blended with it by its alpha and the ancestors'
// opacity. Disabled controls, placeholders and off-screen text (the skip
// link before it is focused) are exempt, as WCAG exempts them.
const contrastCheck = `(() => {
  const parse = (c) => { const m = /rgba?\(([^)]+)\)/.exec(c || ''); if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const lum = (c) => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const over = (fg, bg) => [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3])).concat(1);
  const bgOf = (e) => { const layers = [];
    for (let n = e; n && n.nodeType === 1; n = n.parentElement) { const c = parse(getComputedStyle(n).backgroundColor); if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let bg = [255, 255, 255, 1]; for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg); return bg; };
  const out = [], seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    if (!t.textContent.trim()) continue;
    const e = t.parentElement;
    if (!e || e.closest('script, style, option, [hidden], dialog:not([open]), .visually-hidden, :disabled, canvas')) continue;
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || r.right < 0 || r.bottom < 0 || r.left > innerWidth * 4) continue;
    const s = getComputedStyle(e);
    if (s.visibility === 'hidden' || s.display === 'none') continue;
    let op = 1; for (let n = e; n && n.nodeType === 1; n = n.parentElement) op *= parseFloat(getComputedStyle(n).opacity);
    if (op === 0) continue;
    const bg = bgOf(e), c = parse(s.color); c[3] *= op;
    const fg = over(c, bg);
    const l1 = lum(fg), l2 = lum(bg), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const px = parseFloat(s.fontSize), large = px >= 24 || (px >= 18.66 && parseInt(s.fontWeight, 10) >= 700);
    const need = large ? 3 : 4.5;
    if (ratio + 1e-6 < need) {
      const key = e.tagName + '.' + e.className + ' ' + s.color + ' on ' + bg.join(',');
      if (seen.has(key)) continue; seen.add(key);
      out.push(e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).replace(/\s+/g, '.') : '') + ' "' + t.textContent.trim().slice(0, 30) + '": ' + ratio.toFixed(2) + ':1, want ' + need + ' (' + s.color + ' on rgb(' + bg.slice(0, 3).map(Math.round).join(', ') + '))');
    }
  }
  return out; })()`

// setScheme emulates the operating system's colour scheme ("light" or
// "dark"); the page's CSS media queries follow at once.
func setScheme(scheme string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return chromedp.Void{}, err
	}
}

// focusables marks and counts the controls a keyboard user must reach:
// links, enabled buttons and form controls, summaries and tabindex ≥ 0,
// when rendered (inside a closed details, only its summary); it also
// lists positive tabindex values, which break the order.
const focusables = `(() => { const out = { n: 0, positive: [] };
  for (const e of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, iframe, [tabindex]')) {
    delete e.dataset.kbWant; delete e.dataset.kbSeen;
    if (e.matches(':disabled') || e.tabIndex < 0) continue;
    if (e.tabIndex > 0) out.positive.push(e.outerHTML.slice(0, 60));
    const d = e.parentElement && e.parentElement.closest('details:not([open])');
    if (d && !(e.tagName === 'SUMMARY' && e.parentElement === d)) continue;
    const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    if ((!r.width && !r.height) || s.visibility === 'hidden' || e.closest('[hidden], dialog:not([open])')) continue;
    if (e.classList.contains('skip')) { /* off-screen until focused */ }
    e.dataset.kbWant = '1'; out.n++;
  }
  return out; })()`

// focusStep records the focused element after a Tab: whether it is newly
// reached, and whether its focus is visible (an outline or a box shadow,
// inside the viewport once scrolled there).
const focusStep = `(async () => { let e = document.activeElement;
  // Focus moving into or out of a frame settles (and the page marks a
  // focused frame) after the window's blur event: read it again then.
  if (!e || e === document.body || e.tagName === 'IFRAME') { await new Promise((r) => setTimeout(r, 100)); e = document.activeElement; }
  if (!e || e === document.body) return { key: 'body' };
  const first = !e.dataset.kbSeen; e.dataset.kbSeen = '1';
  const s = getComputedStyle(e), r = e.getBoundingClientRect();
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1) || (s.boxShadow && s.boxShadow !== 'none');
  const onScreen = r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight;
  const label = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + ((e.getAttribute('aria-label') || e.textContent || e.name || '').trim().slice(0, 30));
  return { key: label, first: first, want: e.dataset.kbWant === '1', ring: !!ring, onScreen: onScreen, frame: e.tagName === 'IFRAME' }; })()`

type focusInfo struct {
	Key      string `json:"key"`
	First    bool   `json:"first"`
	Want     bool   `json:"want"`
	Ring     bool   `json:"ring"`
	OnScreen bool   `json:"onScreen"`
	Frame    bool   `json:"frame"`
}

// keyboardCheck presses Tab through the page from its start: every
// control is reached in document order (no positive tabindex), and each
// shows a visible focus indicator on screen. It returns the problems.
func (b *browser) keyboardCheck(step string) []string {
	b.t.Helper()
	type want struct {
		N        int      `json:"n"`
		Positive []string `json:"positive"`
	}
	// A frame still loading is skipped by Tab: wait for the artifacts' frames.
	b.waitFor(step+" frames loaded", `[...document.querySelectorAll('iframe')].every((f) => f.dataset.loaded === 'true')`)
	w := eval[want](b, step+" focusables", focusables)
	var out []string
	for _, p := range w.Positive {
		out = append(out, "positive tabindex breaks the order: "+p)
	}
	// Start from the top of the document.
	b.do(step+" focus start", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); document.body.focus()`))
	reached, bodies := 0, 0
	for i := 0; i < 3*w.N+10 && reached < w.N; i++ {
		b.do(step+" tab", chromedp.KeyEvent("\t"))
		f := eval[focusInfo](b, step+" focus", focusStep)
		if f.Key == "body" {
			if bodies++; bodies > 2 {
				break // past the end of the page
			}
			continue
		}
		bodies = 0
		if !f.First {
			if f.Frame {
				continue // tabbing inside an artifact's frame
			}
			break // wrapped around to a control already seen
		}
		if f.Want {
			reached++
		}
		if !f.Ring {
			out = append(out, "no visible focus on "+f.Key)
		}
		if !f.OnScreen {
			out = append(out, "focused control off screen: "+f.Key)
		}
	}
	b.do(step+" focus end", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)`))
	if reached < w.N {
		missed := eval[[]string](b, step+" missed", `[...document.querySelectorAll('[data-kb-want]:not([data-kb-seen])')].slice(0, 8).map((e) => e.outerHTML.slice(0, 80))`)
		out = append(out, fmt.Sprintf("Tab reaches %d of %d controls; not reached: %v", reached, w.N, missed))
	}
	return out
}
