import { NavLink, Outlet, useLocation } from "react-router-dom";

import { useAuth } from "../auth/AuthContext";
import { ErrorBoundary } from "./ErrorBoundary";

const SCREENS = [
  { to: "/app", label: "Overview", end: true },
  { to: "/app/inventory", label: "Inventory" },
  { to: "/app/customers", label: "Customers" },
  { to: "/app/prices", label: "Prices" },
];

export function Layout() {
  const { me, logout } = useAuth();
  const location = useLocation();
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">LuxeBrain</span>
        <span className="tenant">
          {me?.tenant_name ?? me?.tenant_id} · <span className="role">{me?.role}</span>
          {me?.impersonated_by ? <strong> (impersonated by {me.impersonated_by})</strong> : null}
        </span>
        <button type="button" className="secondary" onClick={() => void logout()}>
          Sign out everywhere
        </button>
      </header>
      <nav aria-label="Screens" className="sidenav">
        <ul>
          {SCREENS.map((screen) => (
            <li key={screen.to}>
              <NavLink to={screen.to} end={screen.end}>
                {screen.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={location.pathname}>
          <Outlet />
        </ErrorBoundary>
      </main>
    </div>
  );
}
