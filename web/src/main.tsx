import "./styles.css";

import { loadConfig } from "./config";

async function start(): Promise<void> {
  await loadConfig();
  // Imported after the configuration: the API client reads the API's URL when it is created.
  const [{ createRoot }, { App }] = await Promise.all([import("react-dom/client"), import("./App")]);
  const root = document.getElementById("root");
  if (root) createRoot(root).render(<App />);
}

void start();
