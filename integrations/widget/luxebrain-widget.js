/*
 * LuxeBrain storefront widget: fills <div data-luxebrain-placement="..."> slots with recommended products.
 *
 * One file, no framework, no build step. Load it with `async` (it never blocks the page):
 *   <script async src=".../luxebrain-widget.js" data-api="https://api.example" data-key="lbpk_..."></script>
 * Slots:
 *   <div data-luxebrain-placement="related" data-product-id="93"></div>         similar products
 *   <div data-luxebrain-placement="basket" data-product-ids="93,22"></div>      goes with the basket
 *   <div data-luxebrain-placement="trending" data-category="shoes"></div>       popular products
 * Optional: data-source (similar | basket | popular) overrides the placement's default, data-k (1-12),
 * data-title. Product ids come from LuxeBrain; names, prices, stock and links from the store's own public
 * Store API, so they are always the store's. On any failure a slot stays empty: the page is untouched.
 * Events (impression, click, add_to_cart) go to LuxeBrain with navigator.sendBeacon; the visitor is a random
 * id kept in this browser (no personal data), also written to a first-party cookie for the checkout's
 * attribution, as is the last clicked placement.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var config = window.LuxeBrainConfig || {};
  function setting(name, fallback) {
    var value = config[name] || (script && script.getAttribute("data-" + name.replace(/[A-Z]/g, function (c) {
      return "-" + c.toLowerCase();
    })));
    return value || fallback;
  }
  var API = String(setting("api", "")).replace(/\/+$/, "");
  var KEY = setting("key", "");
  var STORE_API = String(setting("storeApi", "/wp-json/wc/store/v1")).replace(/\/+$/, "");
  var TIMEOUT_MS = 4000;
  var VISITOR_COOKIE = "luxebrain_visitor";
  var CLICK_COOKIE = "luxebrain_attribution";
  var DEFAULT_SOURCE = { related: "similar", basket: "basket", cart: "basket", trending: "popular" };
  var DEFAULT_TITLE = { related: "You may also like", basket: "Goes with your basket", cart: "Goes with your basket" };
  var queue = [];
  var flushTimer = null;

  function randomId(bytes) {
    var values = new Uint8Array(bytes);
    (window.crypto || window.msCrypto).getRandomValues(values);
    var text = "";
    for (var i = 0; i < values.length; i++) text += String.fromCharCode(values[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function readCookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : null;
  }

  function writeCookie(name, value, days) {
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = name + "=" + encodeURIComponent(value) + "; Max-Age=" + days * 86400 +
      "; Path=/; SameSite=Lax" + secure;
  }

  function visitorId() {
    var id = null;
    try { id = localStorage.getItem(VISITOR_COOKIE); } catch (e) { /* storage blocked: cookie only */ }
    id = id || readCookie(VISITOR_COOKIE);
    if (!id || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) id = randomId(16);
    try { localStorage.setItem(VISITOR_COOKIE, id); } catch (e) { /* ignore */ }
    writeCookie(VISITOR_COOKIE, id, 365);
    return id;
  }

  function withTimeout(promise) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () { reject(new Error("timeout")); }, TIMEOUT_MS);
      promise.then(function (value) { clearTimeout(timer); resolve(value); },
        function (error) { clearTimeout(timer); reject(error); });
    });
  }

  function getJson(url, options) {
    return withTimeout(fetch(url, options)).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }

  function idsOf(text) {
    return String(text || "").split(",").map(function (id) { return id.trim(); }).filter(function (id) {
      return /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/.test(id);
    }).slice(0, 50);
  }

  function askLuxeBrain(slot, visitor) {
    var placement = slot.getAttribute("data-luxebrain-placement");
    var source = slot.getAttribute("data-source") || DEFAULT_SOURCE[placement] || "popular";
    var k = Math.min(Math.max(parseInt(slot.getAttribute("data-k"), 10) || 4, 1), 12);
    var headers = { "X-Storefront-Key": KEY };
    var query = "k=" + k + "&visitor_id=" + encodeURIComponent(visitor);
    if (source === "similar") {
      var product = slot.getAttribute("data-product-id");
      if (!product) return Promise.reject(new Error("no product"));
      return getJson(API + "/recommendations/similar?product_id=" + encodeURIComponent(product) + "&" + query,
        { headers: headers, mode: "cors", credentials: "omit" });
    }
    if (source === "basket") {
      var basket = idsOf(slot.getAttribute("data-product-ids"));
      if (!basket.length) return Promise.reject(new Error("empty basket"));
      headers["Content-Type"] = "application/json";
      return getJson(API + "/recommendations/basket", {
        method: "POST", headers: headers, mode: "cors", credentials: "omit",
        body: JSON.stringify({ product_ids: basket, k: k, visitor_id: visitor })
      });
    }
    var category = slot.getAttribute("data-category");
    return getJson(API + "/recommendations/popular?" + query + (category ? "&category=" + encodeURIComponent(category) : ""),
      { headers: headers, mode: "cors", credentials: "omit" });
  }

  function storeProducts(ids) {
    // The store's public Store API: current names, prices, stock and links, in LuxeBrain's order.
    return getJson(STORE_API + "/products?include=" + ids.map(encodeURIComponent).join(",") +
      "&orderby=include&per_page=" + ids.length, { credentials: "same-origin" });
  }

  function formatPrice(prices) {
    if (!prices || prices.price == null) return "";
    var minor = parseInt(prices.currency_minor_unit, 10) || 0;
    var parts = (parseInt(prices.price, 10) / Math.pow(10, minor)).toFixed(minor).split(".");
    var whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, prices.currency_thousand_separator || "");
    var amount = whole + (parts[1] ? (prices.currency_decimal_separator || ".") + parts[1] : "");
    return (prices.currency_prefix || "") + amount + (prices.currency_suffix || "");
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text; // text only: store data never becomes markup
    return node;
  }

  function track(type, placement, answer, productIds, visitor) {
    queue.push({
      id: randomId(12), type: type, placement: placement, product_ids: productIds.slice(0, 24),
      model_version: answer.model_version || "", response_id: answer.response_id || ""
    });
    if (type !== "impression") {
      writeCookie(CLICK_COOKIE, JSON.stringify({ placement: placement, model_version: answer.model_version || "",
        response_id: answer.response_id || "" }), 30);
      flush(visitor);
    } else if (!flushTimer) {
      flushTimer = setTimeout(function () { flush(visitor); }, 1500);
    }
  }

  function flush(visitor) {
    clearTimeout(flushTimer);
    flushTimer = null;
    while (queue.length) {
      var body = JSON.stringify({ key: KEY, visitor_id: visitor, events: queue.splice(0, 50) });
      try {
        // A string body is sent as text/plain: no preflight, and it survives the page being left.
        if (!(navigator.sendBeacon && navigator.sendBeacon(API + "/events", body))) {
          fetch(API + "/events", { method: "POST", body: body, keepalive: true, mode: "cors", credentials: "omit",
            headers: { "Content-Type": "text/plain;charset=UTF-8" } })["catch"](function () {});
        }
      } catch (e) { /* events are best effort */ }
    }
  }

  function render(slot, placement, answer, products, visitor) {
    if (!products.length) return;
    var titleText = slot.getAttribute("data-title") || DEFAULT_TITLE[placement] || "Popular right now";
    var section = element("section", "luxebrain-recommendations");
    var titleId = "luxebrain-" + placement + "-" + randomId(3);
    var heading = element("h2", "luxebrain-title", titleText);
    heading.id = titleId;
    section.setAttribute("aria-labelledby", titleId);
    section.setAttribute("data-luxebrain-response", answer.response_id || "");
    var list = element("ul", "luxebrain-products");
    var shownIds = [];
    products.forEach(function (product) {
      var id = String(product.id);
      shownIds.push(id);
      var item = element("li", "luxebrain-product" + (product.is_in_stock === false ? " luxebrain-out-of-stock" : ""));
      item.setAttribute("data-product-id", id);
      var link = element("a", "luxebrain-product-link");
      link.href = product.permalink || "#";
      var image = product.images && product.images[0];
      if (image && image.src) {
        var img = element("img", "luxebrain-product-image");
        img.src = image.thumbnail || image.src;
        img.alt = decodeEntities(image.alt || product.name || ""); // the Store API sends names HTML-escaped
        img.loading = "lazy";
        link.appendChild(img);
      }
      var name = element("span", "luxebrain-product-name");
      name.textContent = decodeEntities(product.name || "");
      link.appendChild(name);
      item.appendChild(link);
      item.appendChild(element("span", "luxebrain-product-price", formatPrice(product.prices)));
      if (product.is_in_stock === false) item.appendChild(element("span", "luxebrain-stock", "Out of stock"));
      link.addEventListener("click", function () { track("click", placement, answer, [id], visitor); });
      var cart = product.add_to_cart;
      if (product.is_purchasable !== false && product.is_in_stock !== false && cart && cart.url) {
        var button = element("a", "luxebrain-add-to-cart button", cart.text || "Add to cart");
        button.href = cart.url;
        button.setAttribute("rel", "nofollow");
        button.setAttribute("aria-label", (cart.description || cart.text || "Add to cart"));
        button.addEventListener("click", function () { track("add_to_cart", placement, answer, [id], visitor); });
        item.appendChild(button);
      }
      list.appendChild(item);
    });
    section.appendChild(heading);
    section.appendChild(list);
    slot.appendChild(section);
    slot.setAttribute("data-luxebrain-filled", "true");
    track("impression", placement, answer, shownIds, visitor);
  }

  function decodeEntities(text) {
    var area = document.createElement("textarea");
    area.innerHTML = text; // a detached textarea decodes entities without running anything
    return area.value;
  }

  function fill(slot, visitor) {
    var placement = slot.getAttribute("data-luxebrain-placement") || "";
    if (!/^[a-z][a-z0-9_-]{0,39}$/.test(placement) || slot.getAttribute("data-luxebrain-filled")) return;
    slot.setAttribute("data-luxebrain-filled", "pending");
    askLuxeBrain(slot, visitor).then(function (answer) {
      var ids = (answer.items || []).map(function (item) { return String(item.product_id); });
      if (!ids.length) throw new Error("nothing to show");
      return storeProducts(ids).then(function (products) {
        var byId = {};
        products.forEach(function (product) { byId[String(product.id)] = product; });
        render(slot, placement, answer, ids.map(function (id) { return byId[id]; }).filter(Boolean), visitor);
      });
    })["catch"](function () {
      slot.setAttribute("data-luxebrain-filled", "failed"); // degrade to nothing: the slot stays empty
    });
  }

  function start() {
    try {
      if (!API || !KEY || !window.fetch || !window.Promise) return;
      var visitor = visitorId();
      var slots = document.querySelectorAll("[data-luxebrain-placement]");
      for (var i = 0; i < slots.length; i++) fill(slots[i], visitor);
      var leave = function () { flush(visitor); };
      document.addEventListener("visibilitychange", function () {
        if (document.visibilityState === "hidden") leave();
      });
      window.addEventListener("pagehide", leave);
    } catch (e) { /* never break the page */ }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
