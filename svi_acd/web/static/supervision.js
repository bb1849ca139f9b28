/* Supervision : le tableau se met à jour sans recharger la page.
 *
 * Lit le flux /supervision/flux (server-sent events, évènement « tableau », JSON décrit dans
 * svi_acd/web/supervision.py) et redessine les parties du tableau comme le fait
 * templates/supervision_blocs.html. Tout texte venant du serveur passe par textContent :
 * jamais de HTML construit à partir des données. */
(function () {
  "use strict";

  var board = document.getElementById("supervision");
  if (!board || !window.EventSource) {
    return;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function icon(className) {
    var span = el("span", className + " fr-icon--sm");
    span.setAttribute("aria-hidden", "true");
    return span;
  }

  function duration(seconds) {
    var total = Math.floor(seconds || 0);
    if (total < 60) {
      return total + " s";
    }
    var minutes = Math.floor(total / 60);
    if (minutes < 60) {
      return minutes + " min " + String(total % 60).padStart(2, "0") + " s";
    }
    return Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0") + " min";
  }

  function lookup(data, path) {
    return path.split(".").reduce(function (value, key) {
      return value === null || value === undefined ? undefined : value[key];
    }, data);
  }

  function replace(container, nodes) {
    while (container.firstChild) {
      container.removeChild(container.firstChild);
    }
    nodes.forEach(function (node) {
      container.appendChild(node);
    });
  }

  function alert(kind, title, text) {
    var box = el("div", "fr-alert fr-alert--" + kind + " fr-mb-2w" + (title ? "" : " fr-alert--sm"));
    if (title) {
      box.appendChild(el("h2", "fr-alert__title", title));
    }
    if (text !== undefined) {
      box.appendChild(el("p", null, text));
    }
    return box;
  }

  function alerts(t) {
    var nodes = [];
    if (t.liaison.etat === "connectee") {
      nodes.push(el("p", "fr-badge fr-badge--success fr-badge--sm fr-mb-2w", t.liaison.libelle));
    } else {
      var detail = t.liaison.detail ? " (" + t.liaison.detail + ")" : "";
      nodes.push(alert(t.liaison.etat === "coupee" ? "error" : "warning", null, t.liaison.libelle + detail));
    }
    if (t.afflux && t.afflux.alerte) {
      nodes.push(alert("warning", "Afflux d'appels", t.afflux.libelle));
    }
    if (t.crise.length) {
      var box = alert("info", "Message de crise diffusé");
      var list = el("ul");
      t.crise.forEach(function (m) {
        var item = el("li");
        var link = el("a", null, m.titre);
        link.href = "/crise#message-" + m.id;
        item.appendChild(link);
        var end = m.fin ? ", jusqu'au " + m.fin : "";
        item.appendChild(document.createTextNode(" — " + m.mode_libelle + ", " + m.portee + end));
        list.appendChild(item);
      });
      box.appendChild(list);
      nodes.push(box);
    } else {
      nodes.push(el("p", "fr-badge fr-badge--sm fr-badge--no-icon fr-mb-2w", "Aucun message de crise diffusé"));
    }
    return nodes;
  }

  function states(t) {
    return t.agents.etats.map(function (s) {
      var item = el("li", "app-state app-state--" + s.etat);
      item.appendChild(icon(s.icone));
      item.appendChild(document.createTextNode(" " + s.libelle + " : "));
      item.appendChild(el("strong", null, s.nombre));
      return item;
    });
  }

  function row(cells) {
    var tr = el("tr");
    cells.forEach(function (cell) {
      var td = el("td");
      (Array.isArray(cell) ? cell : [cell]).forEach(function (part) {
        td.appendChild(typeof part === "object" ? part : document.createTextNode(String(part)));
      });
      tr.appendChild(td);
    });
    return tr;
  }

  function emptyRow(columns, text) {
    var tr = el("tr");
    var td = el("td", "app-quiet", text);
    td.colSpan = columns;
    tr.appendChild(td);
    return tr;
  }

  function queueRows(t) {
    var queues = t.acd ? t.acd.files : [];
    if (!queues.length) {
      return [emptyRow(7, "Aucune file connue.")];
    }
    return queues.map(function (q) {
      return row([q.nom, q.en_attente, q.vip_en_attente, duration(q.attente_max_s),
                  q.agents_libres, q.agents_en_appel, q.agents_connectes]);
    });
  }

  function callerRows(t) {
    var rows = [];
    (t.acd ? t.acd.files : []).forEach(function (q) {
      q.appelants.forEach(function (c) {
        var priority = c.vip ? [icon("fr-icon-star-fill"), " VIP"] : [c.priorite ? "P0" : "normale"];
        if (c.rappel) {
          priority.push(" (rappel demandé)");
        }
        rows.push(row([q.nom, c.position, c.numero || "masqué", priority, duration(c.attente_s)]));
      });
    });
    return rows.length ? rows : [emptyRow(5, "Aucun appelant en attente.")];
  }

  /* Commandes du superviseur (data-commandes sur #supervision) : les mêmes formulaires que
   * agent_controls dans supervision_blocs.html. */
  var controls = board.getAttribute("data-commandes") === "oui";
  var csrf = board.getAttribute("data-csrf") || "";
  var reasons = controls ? JSON.parse(board.getAttribute("data-motifs") || "[]") : [];

  function actionUrl(member, action) {
    var slash = member.indexOf("/");
    return "/supervision/agents/" + member.slice(0, slash + 1) +
      encodeURIComponent(member.slice(slash + 1)) + "/" + action;
  }

  function button(text, kind, agent, key) {
    var node = el("button", "fr-btn fr-btn--sm" + (kind ? " " + kind : ""), text);
    node.type = "submit";
    node.setAttribute("data-cle", key);
    node.appendChild(el("span", "fr-sr-only", " : " + agent.nom));
    return node;
  }

  function form(agent, action, className) {
    var node = el("form", className);
    node.method = "post";
    node.action = actionUrl(agent.interface, action);
    var token = el("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = csrf;
    node.appendChild(token);
    return node;
  }

  function agentControls(a, index) {
    var box = el("div", "app-agent-actions");
    if (a.etat === "pause") {
      var resume = form(a, "reprise");
      resume.appendChild(button("Reprendre", "", a, a.interface + "|reprise"));
      box.appendChild(resume);
    } else if (a.etat !== "deconnecte") {
      var pause = form(a, "pause", "app-agent-pause");
      var label = el("label", "fr-label", "Motif");
      label.htmlFor = "motif-agent-" + index;
      label.appendChild(el("span", "fr-sr-only", " de la pause de " + a.nom));
      var select = el("select", "fr-select");
      select.id = "motif-agent-" + index;
      select.name = "motif";
      select.setAttribute("data-cle", a.interface + "|motif");
      reasons.forEach(function (reason) {
        var option = el("option", null, reason.charAt(0).toUpperCase() + reason.slice(1));
        option.value = reason;
        select.appendChild(option);
      });
      pause.appendChild(label);
      pause.appendChild(select);
      pause.appendChild(button("Mettre en pause", "fr-btn--secondary", a, a.interface + "|pause"));
      box.appendChild(pause);
    }
    if (a.etat !== "deconnecte") {
      var logout = form(a, "deconnexion");
      logout.appendChild(button("Déconnecter", "fr-btn--tertiary", a, a.interface + "|deconnexion"));
      box.appendChild(logout);
    }
    return box;
  }

  function agentRows(t) {
    var icons = {};
    t.agents.etats.forEach(function (s) {
      icons[s.etat] = s.icone;
    });
    var agents = t.acd ? t.acd.agents : [];
    if (!agents.length) {
      return [emptyRow(controls ? 6 : 5, "Aucun agent connu.")];
    }
    return agents.map(function (a, index) {
      var state = [icon(icons[a.etat]), " " + a.etat_libelle + (a.motif_pause ? " (" + a.motif_pause + ")" : "")];
      var since = a.depuis_s === null || a.depuis_s === undefined ? "" : duration(a.depuis_s);
      var cells = [a.nom, state, since, a.files.join(", "), a.appels_pris];
      if (controls) {
        cells.push(agentControls(a, index + 1));
      }
      return row(cells);
    });
  }

  /* Redessiner les agents sans gêner le superviseur : tant que le focus est dans le tableau
   * (motif en cours de choix, bouton), le tableau attend ; au redessin, le motif choisi est
   * remis sur les nouvelles commandes. */
  var agentsBody = document.getElementById("agents-corps");
  var pendingAgents = null;

  function drawAgents(t) {
    if (agentsBody.contains(document.activeElement)) {
      pendingAgents = t;
      return;
    }
    pendingAgents = null;
    var chosen = {};
    agentsBody.querySelectorAll("select[data-cle]").forEach(function (select) {
      chosen[select.getAttribute("data-cle")] = select.value;
    });
    replace(agentsBody, agentRows(t));
    agentsBody.querySelectorAll("select[data-cle]").forEach(function (select) {
      var value = chosen[select.getAttribute("data-cle")];
      if (value) {
        select.value = value;
      }
    });
  }

  agentsBody.addEventListener("focusout", function (event) {
    if (pendingAgents && !agentsBody.contains(event.relatedTarget)) {
      var t = pendingAgents;
      window.setTimeout(function () {
        if (pendingAgents === t) {
          drawAgents(t);
        }
      }, 0);
    }
  });

  function draw(t) {
    board.querySelectorAll("[data-champ]").forEach(function (node) {
      var value = lookup(t, node.getAttribute("data-champ"));
      node.textContent = value === undefined || value === null ? "—" : String(value);
    });
    document.getElementById("jour-absent").hidden = Boolean(t.jour);
    document.getElementById("jour-chiffres").hidden = !t.jour;
    replace(document.getElementById("alertes"), alerts(t));
    replace(document.getElementById("etats-agents"), states(t));
    replace(document.getElementById("files-corps"), queueRows(t));
    replace(document.getElementById("appelants-corps"), callerRows(t));
    drawAgents(t);
  }

  var mode = document.getElementById("flux-mode");
  var announce = document.getElementById("flux-annonce");
  var lost = false;
  var source = new EventSource(board.getAttribute("data-flux"));

  source.addEventListener("open", function () {
    mode.textContent = "— mise à jour en direct.";
    if (lost) {
      announce.textContent = "Connexion rétablie : le tableau est de nouveau à jour.";
      lost = false;
    }
  });
  source.addEventListener("error", function () {
    mode.textContent = "— connexion perdue, nouvelle tentative en cours…";
    if (!lost) {
      announce.textContent = "Connexion au tableau perdue : nouvelle tentative en cours.";
      lost = true;
    }
  });
  source.addEventListener("tableau", function (event) {
    draw(JSON.parse(event.data));
    board.setAttribute("data-evenements", String(Number(board.getAttribute("data-evenements") || 0) + 1));
  });
  window.addEventListener("pagehide", function () {
    source.close();
  });
})();
