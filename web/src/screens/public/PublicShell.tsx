import type { ReactNode } from "react";
import { Link } from "react-router-dom";

export function PublicShell({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="public">
      <header className="topbar">
        <Link to="/" className="brand">
          LuxeBrain
        </Link>
        <nav aria-label="Account">
          <Link to="/login">Log in</Link> <Link to="/signup">Sign up</Link>
        </nav>
      </header>
      <main id="main" className="public-main">
        <h1>{title}</h1>
        {children}
      </main>
    </div>
  );
}
