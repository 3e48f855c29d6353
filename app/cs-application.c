/* cs-application.c — the application */
#include "config.h"

#include "cs-application-private.h"
#include "cs-window.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_FINAL_TYPE (CsApplication, cs_application, GTK_TYPE_APPLICATION)

CsApplication *
cs_application_new (void)
{
  return g_object_new (CS_TYPE_APPLICATION,
                       "application-id", CS_APPLICATION_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/io/github/convscope/Convscope",
                       NULL);
}

/* A program in the build folder (build/app/convscope, the tests) is run
 * uninstalled: its translations are the catalogues compiled there, in
 * build/po/LANG/LC_MESSAGES/ (po/meson.build). */
static gboolean
cs_running_uninstalled (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *build = realpath (CS_BUILD_ROOT, NULL);

  if (exe == NULL || build == NULL)
    return FALSE;
  size_t n = strlen (build);
  return strncmp (exe, build, n) == 0 && exe[n] == G_DIR_SEPARATOR;
}

const char *
cs_application_bind_text_domain (void)
{
  const char *dir = cs_running_uninstalled () ? CS_BUILD_LOCALEDIR : LOCALEDIR;

  bindtextdomain (GETTEXT_PACKAGE, dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  return dir;
}

/* The settings schema: installed (or in $GSETTINGS_SCHEMA_DIR), else the
 * one compiled in the build folder, so that build/app/convscope runs
 * uninstalled; else none, and nothing is remembered. */
static GSettings *
cs_application_new_settings (void)
{
  GSettingsSchemaSource *installed = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (installed != NULL)
    schema = g_settings_schema_source_lookup (installed, CS_APPLICATION_ID, TRUE);
  if (schema == NULL && g_file_test (CS_BUILD_SCHEMA_DIR "/gschemas.compiled", G_FILE_TEST_EXISTS))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSettingsSchemaSource) build =
        g_settings_schema_source_new_from_directory (CS_BUILD_SCHEMA_DIR, installed, FALSE, &error);
      if (build != NULL)
        schema = g_settings_schema_source_lookup (build, CS_APPLICATION_ID, FALSE);
    }
  if (schema == NULL)
    {
      g_message ("The settings schema %s is not installed: window size, view and model "
                 "will not be remembered", CS_APPLICATION_ID);
      return NULL;
    }
  return g_settings_new_full (schema, NULL, NULL);
}

static void
cs_application_startup (GApplication *app)
{
  CsApplication *self = CS_APPLICATION (app);

  G_APPLICATION_CLASS (cs_application_parent_class)->startup (app);

  g_set_application_name (_("Convscope"));
  gtk_window_set_default_icon_name (CS_APPLICATION_ID);

  self->settings = cs_application_new_settings ();
  self->session = cs_session_new ();
  if (self->settings != NULL)
    g_settings_bind (self->settings, "model", self->session, "model", G_SETTINGS_BIND_DEFAULT);

  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/io/github/convscope/Convscope/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  _cs_application_actions_init (self);
}

static void
cs_application_activate (GApplication *app)
{
  CsApplication *self = CS_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (cs_window_new (self));
  gtk_window_present (window);
}

static void
cs_application_dispose (GObject *object)
{
  CsApplication *self = (CsApplication *) object;

  g_clear_object (&self->session);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (cs_application_parent_class)->dispose (object);
}

static void
cs_application_class_init (CsApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = cs_application_dispose;
  app_class->startup = cs_application_startup;
  app_class->activate = cs_application_activate;
}

static void
cs_application_init (CsApplication *self)
{
}

CsSession *
cs_application_get_session (CsApplication *self)
{
  g_return_val_if_fail (CS_IS_APPLICATION (self), NULL);
  return self->session;
}

GSettings *
cs_application_get_settings (CsApplication *self)
{
  g_return_val_if_fail (CS_IS_APPLICATION (self), NULL);
  return self->settings;
}
