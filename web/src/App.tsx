import { lazy, Suspense, useEffect, type ReactNode } from "react";
import { BrowserRouter, Navigate, Route, Routes, useLocation, useNavigate } from "react-router-dom";

import { whenSessionEnds } from "./api/client";
import { AuthProvider, useAuth } from "./auth/AuthContext";
import { Layout } from "./ui/Layout";
import { Loading } from "./ui/States";
import { ToastProvider, useToast } from "./ui/Toasts";
import { ErrorBoundary } from "./ui/ErrorBoundary";

// Each screen is its own chunk: the first paint loads only the shell and the screen asked for.
const Landing = lazy(() => import("./screens/public/Landing"));
const Login = lazy(() => import("./screens/public/Login"));
const SignUp = lazy(() => import("./screens/public/SignUp"));
const Confirm = lazy(() => import("./screens/public/Confirm"));
const Forgot = lazy(() => import("./screens/public/Forgot"));
const Reset = lazy(() => import("./screens/public/Reset"));
const Welcome = lazy(() => import("./screens/public/Welcome"));
const Overview = lazy(() => import("./screens/Overview"));
const Inventory = lazy(() => import("./screens/Inventory"));
const Customers = lazy(() => import("./screens/Customers"));
const Prices = lazy(() => import("./screens/Prices"));
const Recommendations = lazy(() => import("./screens/Recommendations"));
const Campaigns = lazy(() => import("./screens/Campaigns"));
const Storefront = lazy(() => import("./screens/Storefront"));
const Models = lazy(() => import("./screens/Models"));
const Team = lazy(() => import("./screens/Team"));
const Connect = lazy(() => import("./screens/Connect"));
const Admin = lazy(() => import("./screens/Admin"));

/** Signed-out visitors go to log-in and come back to where they were. */
function RequireAuth({ children }: { children: ReactNode }) {
  const { me, ready } = useAuth();
  const location = useLocation();
  if (!ready) return <Loading what="your session" />;
  if (!me) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}`} replace />;
  }
  return <>{children}</>;
}

function ToConnect() {
  const location = useLocation();
  return <Navigate to={`/app/connect${location.search}`} replace />;
}

/** A session that ends on the server (expired, signed out elsewhere, tenant suspended) ends here. */
function SessionWatcher() {
  const navigate = useNavigate();
  const notify = useToast();
  useEffect(() => {
    whenSessionEnds((reason) => {
      // A screen's other refused calls arrive after the first sent us to log-in: keep that page's `next`.
      if (window.location.pathname === "/login") return;
      notify(reason, "info");
      const here = window.location.pathname + window.location.search;
      navigate(`/login?next=${encodeURIComponent(here)}`, { replace: true });
    });
  }, [navigate, notify]);
  return null;
}

export function App() {
  return (
    <BrowserRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
      <ToastProvider>
        <AuthProvider>
          <SessionWatcher />
          <ErrorBoundary>
            <Suspense fallback={<Loading what="the screen" />}>
              <Routes>
                <Route path="/" element={<Landing />} />
                <Route path="/login" element={<Login />} />
                <Route path="/signup" element={<SignUp />} />
                <Route path="/confirm" element={<Confirm />} />
                <Route path="/forgot" element={<Forgot />} />
                <Route path="/reset" element={<Reset />} />
                <Route path="/welcome" element={<Welcome />} />
                <Route
                  path="/app"
                  element={
                    <RequireAuth>
                      <Layout />
                    </RequireAuth>
                  }
                >
                  <Route index element={<Overview />} />
                  <Route path="inventory" element={<Inventory />} />
                  <Route path="customers" element={<Customers />} />
                  <Route path="prices" element={<Prices />} />
                  <Route path="recommendations" element={<Recommendations />} />
                  <Route path="campaigns" element={<Campaigns />} />
                  <Route path="storefront" element={<Storefront />} />
                  <Route path="models" element={<Models />} />
                  <Route path="team" element={<Team />} />
                  <Route path="connect" element={<Connect />} />
                </Route>
                <Route
                  path="/admin"
                  element={
                    <RequireAuth>
                      <Admin />
                    </RequireAuth>
                  }
                />
                {/* The WordPress plugin's "Connect" button opens /stores/connect?store_url=... */}
                <Route path="/stores/connect" element={<ToConnect />} />
                {/* WooCommerce's approval page returns the merchant to /stores?connecting=<store id>&success=1 */}
                <Route path="/stores" element={<ToConnect />} />
                <Route path="*" element={<Navigate to="/" replace />} />
              </Routes>
            </Suspense>
          </ErrorBoundary>
        </AuthProvider>
      </ToastProvider>
    </BrowserRouter>
  );
}
