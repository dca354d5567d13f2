// Starts Swagger UI on the page's OpenAPI description. Kept out of the HTML
// so that the page runs under a Content-Security-Policy without inline code.
"use strict";

window.addEventListener("DOMContentLoaded", function () {
  var container = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: container.dataset.openapiUrl,
    domNode: container,
    deepLinking: true,
    // The public validator badge would call validator.swagger.io: stay offline.
    validatorUrl: null,
    tryItOutEnabled: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
