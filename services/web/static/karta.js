/* Kommunkartan: markers sized by count from the page's embedded numbers (the same as its
   table), and the initiatives of a chosen municipality from the GraphQL API. Without this
   script, or without Leaflet or tiles, the page's filters, table and links still work. */
(function () {
  "use strict";

  var QUERY = "query($code: String!, $filter: InitiativeMapFilter, $lang: Language!) {" +
    " municipalityInitiatives(code: $code, filter: $filter, first: 20) { totalCount" +
    " nodes { id title summary areaLabel(language: $lang) statusLabel(language: $lang) organisation { name } } } }";

  var dataElement = document.getElementById("karta-data");
  var mapElement = document.getElementById("map");
  if (!dataElement || !mapElement || typeof L === "undefined") {
    return;
  }
  var data = JSON.parse(dataElement.textContent);
  var t = data.messages;
  var listHeading = document.getElementById("map-list-heading");
  var listBody = document.getElementById("map-list-body");
  var notice = document.getElementById("map-notice");
  var markers = {};
  var selected = null;

  function fmt(message, values) {
    return message.replace(/%\((\w+)\)s/g, function (_, key) { return String(values[key]); });
  }

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (ch) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[ch];
    });
  }

  function markerLabel(m) {
    return fmt(m.count === 1 ? t.markerOne : t.marker, { name: m.name, count: m.count });
  }

  function pageUrl(m) {
    return data.municipalityUrl + encodeURIComponent(m.code) + data.query;
  }

  // --- the map ---------------------------------------------------------------------------
  mapElement.textContent = "";
  mapElement.setAttribute("role", "region");
  mapElement.setAttribute("aria-label", t.map);
  var map = L.map(mapElement, { zoomSnap: 0.25, minZoom: 3, maxZoom: 13 });
  map.fitBounds(L.latLngBounds([55.3, 10.9], [69.1, 24.2]));

  if (data.tiles) {
    // Leaflet shows attributions as HTML; ours is the settings' plain text, escaped.
    var credit = escapeHtml(data.tiles.attribution);
    if (data.tiles.attributionUrl) {
      credit = "<a href=\"" + escapeHtml(data.tiles.attributionUrl) + "\">" + credit + "</a>";
    }
    var layer = L.tileLayer(data.tiles.url, { maxZoom: 18, subdomains: "abc", attribution: credit });
    layer.once("tileerror", function () {
      notice.textContent = t.noTiles;
      notice.hidden = false;
    });
    layer.addTo(map);
  } else {
    mapElement.classList.add("no-tiles");
  }

  data.markers.forEach(function (m) {
    var size = Math.round(14 + 10 * Math.sqrt(m.count));
    var icon = L.divIcon({ className: "karta-marker", html: "<span>" + Number(m.count) + "</span>", iconSize: [size, size] });
    var label = markerLabel(m);
    var marker = L.marker([m.lat, m.lon], { icon: icon, keyboard: true, title: label, zIndexOffset: 1000 - size });
    marker.on("click", function () { select(m, false); });
    marker.addTo(map);
    var node = marker.getElement();
    node.setAttribute("aria-label", label);
    node.setAttribute("aria-pressed", "false");
    node.setAttribute("data-code", m.code);
    node.setAttribute("data-count", String(m.count));
    node.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        select(m, true);
      }
    });
    markers[m.code] = marker;
  });

  // --- the list that follows the map ------------------------------------------------------
  function showInView() {
    if (selected) { return; }
    var bounds = map.getBounds();
    var visible = data.markers.filter(function (m) { return bounds.contains([m.lat, m.lon]); });
    visible.sort(function (a, b) { return b.count - a.count || a.name.localeCompare(b.name, "sv"); });
    listHeading.textContent = t.inView;
    listBody.textContent = "";
    if (!visible.length) {
      listBody.appendChild(element("p", t.noneInView, "empty"));
      return;
    }
    var list = element("ol", null, "municipality-list");
    visible.forEach(function (m) {
      var item = element("li");
      var button = element("button", m.name, "link-button");
      button.type = "button";
      button.setAttribute("data-code", m.code);
      button.addEventListener("click", function () { select(m, true); });
      item.appendChild(button);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(element("span", "(" + m.count + ")", "muted"));
      list.appendChild(item);
    });
    listBody.appendChild(list);
  }

  function mark(m, on) {
    var node = markers[m.code] && markers[m.code].getElement();
    if (node) {
      node.classList.toggle("selected", on);
      node.setAttribute("aria-pressed", on ? "true" : "false");
    }
  }

  function back() {
    var was = selected;
    if (was) { mark(was, false); }
    selected = null;
    showInView();
    var node = was && markers[was.code] && markers[was.code].getElement();
    if (node) { node.focus(); }
  }

  function showInitiatives(m, found) {
    listBody.textContent = "";
    var list = element("ol", null, "initiatives");
    found.nodes.forEach(function (i) {
      var item = element("li", null, "initiative-card");
      item.appendChild(element("h3", i.title));
      var facts = [i.organisation ? i.organisation.name : null, i.areaLabel, i.statusLabel].filter(Boolean);
      item.appendChild(element("p", facts.join(" · "), "meta"));
      if (i.summary) { item.appendChild(element("p", i.summary)); }
      list.appendChild(item);
    });
    listBody.appendChild(list);
    var more = element("p");
    var link = element("a", found.totalCount > found.nodes.length ?
      fmt(t.showAll, { count: found.totalCount, name: m.name }) : t.openPage);
    link.href = pageUrl(m);
    more.appendChild(link);
    listBody.appendChild(more);
    addBack();
  }

  function addBack() {
    var button = element("button", t.back, "secondary");
    button.type = "button";
    button.addEventListener("click", back);
    listBody.appendChild(button);
  }

  function failed(m) {
    listBody.textContent = "";
    var p = element("p", t.failed + " ");
    var link = element("a", t.openPage);
    link.href = pageUrl(m);
    p.appendChild(link);
    listBody.appendChild(p);
    addBack();
  }

  function select(m, fromKeyboard) {
    if (selected) { mark(selected, false); }
    selected = m;
    mark(m, true);
    listHeading.textContent = fmt(t.initiativesIn, { name: m.name });
    listBody.textContent = "";
    listBody.appendChild(element("p", t.loading, "muted"));
    listHeading.focus({ preventScroll: !fromKeyboard });
    fetch(data.graphql, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json" },
      body: JSON.stringify({ query: QUERY, variables: { code: m.code, filter: data.filter, lang: data.lang } })
    }).then(function (response) {
      return response.json();
    }).then(function (body) {
      if (selected !== m) { return; }
      if (!body || body.errors || !body.data || !body.data.municipalityInitiatives) { throw new Error("GraphQL"); }
      showInitiatives(m, body.data.municipalityInitiatives);
    }).catch(function () {
      if (selected === m) { failed(m); }
    });
  }

  map.on("moveend", showInView);
  showInView();
  mapElement.setAttribute("data-ready", "true");
}());
