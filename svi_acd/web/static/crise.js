/* Message de crise : aperçu écouté sur place, taille du fichier vérifiée avant l'envoi,
 * compteur de caractères, choix de la portée.
 *
 * Sans JavaScript le formulaire fonctionne tel quel : « Écouter l'aperçu » ouvre l'audio dans
 * un nouvel onglet et le serveur refuse un fichier trop gros sans le lire en entier. */
(function () {
  "use strict";

  var form = document.getElementById("formulaire-crise");
  if (!form) {
    return;
  }

  function fieldError(input, message) {
    var group = input.closest(".fr-upload-group, .fr-input-group");
    var id = input.id + "-erreur-client";
    var existing = document.getElementById(id);
    if (existing) {
      existing.remove();
    }
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (x) {
      return x && x !== id;
    });
    if (message) {
      var p = document.createElement("p");
      p.id = id;
      p.className = "fr-error-text";
      p.textContent = message;
      input.insertAdjacentElement("afterend", p);
      described.push(id);
      input.setAttribute("aria-invalid", "true");
      if (group) {
        group.classList.add("fr-input-group--error");
      }
    } else {
      input.removeAttribute("aria-invalid");
      if (group) {
        group.classList.remove("fr-input-group--error");
      }
    }
    if (described.length) {
      input.setAttribute("aria-describedby", described.join(" "));
    } else {
      input.removeAttribute("aria-describedby");
    }
  }

  /* Fichier : refusé avant l'envoi s'il dépasse la taille permise. */
  var file = form.querySelector('input[type="file"][name="fichier"]');
  function fileTooLarge() {
    if (!file || !file.files || !file.files.length) {
      return false;
    }
    var max = Number(file.getAttribute("data-max-octets"));
    var size = file.files[0].size;
    if (max && size > max) {
      var mo = function (n) { return (n / 1000000).toLocaleString("fr-FR", { maximumFractionDigits: 1 }); };
      fieldError(file, "Le fichier fait " + mo(size) + " Mo, le maximum est " + mo(max) +
        " Mo : envoyez un enregistrement plus court ou plus compressé (MP3, OGG).");
      return true;
    }
    fieldError(file, null);
    return false;
  }
  if (file) {
    file.addEventListener("change", fileTooLarge);
  }

  /* Compteur de caractères du texte. */
  var text = form.querySelector('textarea[name="texte"]');
  var counter = document.getElementById("compteur-texte");
  if (text && counter) {
    var max = Number(text.getAttribute("data-max-caracteres"));
    var count = function () {
      var n = text.value.trim().length;
      counter.textContent = n + " caractère" + (n > 1 ? "s" : "") + " sur " + max + " au plus" +
        (n > max ? " : raccourcissez le texte." : ".");
    };
    counter.hidden = false;
    counter.setAttribute("aria-live", "off");
    text.addEventListener("input", count);
    text.addEventListener("blur", function () {
      counter.setAttribute("aria-live", "polite");
      count();
      counter.setAttribute("aria-live", "off");
    });
    count();
  }

  /* Portée : seules les cases de la portée choisie sont montrées. */
  var scopes = form.querySelectorAll('input[name="portee"]');
  function showScope() {
    var chosen = form.querySelector('input[name="portee"]:checked');
    form.querySelectorAll(".app-scope-values").forEach(function (set) {
      set.hidden = !chosen || set.getAttribute("data-portee") !== chosen.value;
    });
  }
  scopes.forEach(function (radio) {
    radio.addEventListener("change", showScope);
  });
  showScope();

  /* Aperçu : écouté sur place, sans quitter la page ni publier. */
  var button = document.getElementById("bouton-ecouter");
  var player = document.getElementById("apercu-audio");
  var zone = document.getElementById("apercu");
  var status = document.getElementById("apercu-etat");
  var previousUrl = null;
  if (button && player && window.fetch && window.URL && URL.createObjectURL) {
    button.removeAttribute("formtarget");
    form.querySelectorAll(".app-no-js-hint").forEach(function (hint) {
      hint.hidden = true;
    });
    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (fileTooLarge()) {
        file.focus();
        return;
      }
      if (text) {
        fieldError(text, null);
      }
      var data = new FormData(form);
      button.disabled = true;
      status.textContent = "Préparation de l'aperçu…";
      fetch(button.getAttribute("data-apercu"), {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.ok && type.indexOf("audio/") === 0) {
          return response.blob().then(function (blob) {
            if (previousUrl) {
              URL.revokeObjectURL(previousUrl);
            }
            previousUrl = URL.createObjectURL(blob);
            player.src = previousUrl;
            zone.hidden = false;
            status.textContent = "Aperçu prêt : utilisez le lecteur ci-dessus. Rien n'a été publié.";
            player.focus();
          });
        }
        if (type.indexOf("application/json") === 0) {
          return response.json().then(function (body) {
            status.textContent = "Aperçu impossible : " + body.erreur;
            (body.champs || []).forEach(function (item) {
              var input = form.querySelector('[name="' + item.champ + '"]');
              if (input && input.type !== "radio") {
                fieldError(input, item.erreur);
              }
            });
          });
        }
        status.textContent = "Aperçu impossible (erreur " + response.status + ").";
        return null;
      }).catch(function () {
        status.textContent = "Aperçu impossible : le service ne répond pas.";
      }).then(function () {
        button.disabled = false;
      });
    });
  }

  /* Envoi : un fichier trop gros n'est pas envoyé. */
  form.addEventListener("submit", function (event) {
    if (fileTooLarge()) {
      event.preventDefault();
      file.focus();
    }
  });
})();
