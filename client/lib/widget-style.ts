/** The widget's CSS. It lives in the widget's shadow root, so it neither reaches the host page nor is reached by it. */
export const widgetCss = `
:host { all: initial; }
* { box-sizing: border-box; }
.bubble {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  display: grid; place-items: center; width: 56px; height: 56px; padding: 0; margin: 0;
  border: 0; border-radius: 50%; background: #1558c7; color: #fff; cursor: pointer;
  box-shadow: 0 6px 20px rgba(16, 24, 40, .28); transition: transform .15s ease;
}
.bubble:hover { transform: scale(1.05); }
.bubble:focus-visible { outline: 3px solid #1558c7; outline-offset: 3px; }
.bubble svg { width: 28px; height: 28px; fill: currentColor; }
.badge {
  position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px;
  border-radius: 11px; background: #c4271d; color: #fff; border: 2px solid #fff;
  font: 700 12px/18px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; text-align: center;
}
.panel {
  position: fixed; right: 20px; bottom: 88px; z-index: 2147483000;
  width: 380px; height: min(620px, calc(100vh - 108px)); max-height: calc(100vh - 108px);
  border-radius: 16px; overflow: hidden; background: #fff; box-shadow: 0 12px 40px rgba(16, 24, 40, .3);
}
.panel iframe { display: block; width: 100%; height: 100%; border: 0; }
@media (prefers-color-scheme: dark) { .panel { background: #16191f; } }
@media (max-width: 480px) {
  .panel { inset: 0; width: 100%; height: 100%; max-height: none; border-radius: 0; }
  .open .bubble { display: none; }
}
@media (prefers-reduced-motion: reduce) { .bubble { transition: none; } }
[hidden] { display: none !important; }
`;
