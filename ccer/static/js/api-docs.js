// /api/v1/docs: Swagger UI (vendored, ccer/static/vendor/swagger-ui) over the API's own openapi.json.
// A separate file rather than an inline script, so the page runs under CSP script-src 'self'.
(function () {
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: node.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    tryItOutEnabled: false,
    // a call made with the page's login cookie carries the page's CSRF token (ccer/web/security.py)
    requestInterceptor: function (req) {
      var token = node.getAttribute("data-csrf");
      if (token && !(req.headers && req.headers.Authorization)) {
        req.headers = req.headers || {};
        req.headers["X-CSRF-Token"] = token;
      }
      return req;
    }
  });
})();
