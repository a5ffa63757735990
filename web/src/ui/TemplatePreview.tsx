import { useEffect, useRef, useState } from "react";

import { api, unwrap } from "../api/client";
import { ApiError } from "../api/problem";
import { FormError } from "./forms";

export type Channel = "email" | "sms" | "whatsapp";
export type Flow = "campaign" | "abandoned_cart" | "welcome" | "post_purchase" | "win_back" | "back_in_stock" | "price_drop";

interface Preview {
  subject?: string;
  html?: string;
  text?: string;
}

const FRAME_MIN_HEIGHT = 160;
const FRAME_MAX_HEIGHT = 1200;

/** The e-mail's HTML in /email-preview.html: a frame with a content security policy of its own (the e-mail's
 * inline styles apply there, never in the app) and a sandbox without same-origin (no access to the app). The
 * app's policy would apply to a srcdoc frame, and strip every inline style of the e-mail. */
export function EmailFrame({ html }: { html: string }) {
  const frame = useRef<HTMLIFrameElement>(null);
  const [ready, setReady] = useState(false);
  const [height, setHeight] = useState(FRAME_MIN_HEIGHT);
  useEffect(() => {
    function onMessage(event: MessageEvent) {
      if (!frame.current || event.source !== frame.current.contentWindow) return;
      const data = event.data as { previewReady?: unknown; previewHeight?: unknown };
      if (data?.previewReady === true) setReady(true);
      if (typeof data?.previewHeight === "number") {
        setHeight(Math.min(Math.max(Math.ceil(data.previewHeight), FRAME_MIN_HEIGHT), FRAME_MAX_HEIGHT));
      }
    }
    window.addEventListener("message", onMessage);
    return () => window.removeEventListener("message", onMessage);
  }, []);
  useEffect(() => {
    // "*": the sandboxed frame's origin is opaque, so it cannot be named; it shows only what it is sent.
    if (ready) frame.current?.contentWindow?.postMessage({ html }, "*");
  }, [ready, html]);
  return (
    <iframe
      ref={frame}
      title="E-mail preview"
      sandbox="allow-scripts"
      src="/email-preview.html"
      className="preview-frame"
      data-ready={ready ? "yes" : "no"}
      style={{ height }}
    />
  );
}

/** The template rendered by the API in the sender's own sandbox, with the tenant's branding and products. */
export function LivePreview({ flow, channel, template }: { flow: Flow; channel: Channel; template: Record<string, string> }) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const key = JSON.stringify([flow, channel, template]);
  useEffect(() => {
    let current = true;
    const timer = window.setTimeout(() => {
      unwrap(api.POST("/campaigns/preview", { body: { flow, channel, template } })).then(
        (answer) => {
          if (!current) return;
          setPreview(answer as Preview);
          setProblem(null);
        },
        (error: unknown) => {
          if (current) setProblem(error instanceof ApiError ? error.message : String(error));
        },
      );
    }, 400);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return (
    <div className="preview" aria-live="polite" aria-labelledby={`preview-title-${flow}`}>
      <h3 id={`preview-title-${flow}`}>Live preview</h3>
      <FormError message={problem} />
      {preview ? (
        <>
          {preview.subject !== undefined ? (
            <p>
              Subject: <strong data-testid="preview-subject">{preview.subject}</strong>
            </p>
          ) : null}
          {preview.html ? <EmailFrame html={preview.html} /> : null}
          {preview.text ? <pre className="preview-text">{preview.text}</pre> : null}
        </>
      ) : problem ? null : (
        <p className="muted">Rendering…</p>
      )}
    </div>
  );
}
