import { Navigate, NavLink, Outlet, useLocation, useNavigate } from "react-router-dom";

import { impersonating, setImpersonation } from "../api/client";

import { useAuth } from "../auth/AuthContext";
import { ErrorBoundary } from "./ErrorBoundary";

const SCREENS = [
  { to: "/app", label: "Overview", end: true },
  { to: "/app/inventory", label: "Inventory" },
  { to: "/app/customers", label: "Customers" },
  { to: "/app/prices", label: "Prices" },
  { to: "/app/recommendations", label: "Recommendations" },
  { to: "/app/campaigns", label: "Campaigns" },
  { to: "/app/storefront", label: "Storefront" },
  { to: "/app/models", label: "Models" },
  { to: "/app/connect", label: "Store & health" },
  { to: "/app/team", label: "Team & plan" },
];

export function Layout() {
  const { me, logout, refreshMe } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  if (me && !me.tenant_id) return <Navigate to="/admin" replace />; // a platform admin not impersonating
  const stopImpersonating = async () => {
    setImpersonation(null);
    await refreshMe();
    navigate("/admin");
  };
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
        {impersonating() ? (
          <button type="button" className="secondary" onClick={() => void stopImpersonating()}>
            Stop impersonating
          </button>
        ) : null}
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
