/* cs-application.c — the application */
#include "config.h"

#include "cs-application-private.h"
#include "cs-window.h"

#include "core/session-file.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTOSAVE_NAME "autosave" CS_SESSION_FILE_SUFFIX
#define AUTOSAVE_SECONDS 30

G_DEFINE_FINAL_TYPE (CsApplication, cs_application, GTK_TYPE_APPLICATION)

CsApplication *
cs_application_new (void)
{
  return g_object_new (CS_TYPE_APPLICATION,
                       "application-id", CS_APPLICATION_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
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

/* Where the session is autosaved: $CONVSCOPE_STATE_DIR, else the user's
 * state folder ($XDG_STATE_HOME, ~/.local/state)/convscope. Files a
 * write killed half way left there (the temporary files beside the
 * autosave; the autosave itself is only ever replaced whole) are removed. */
static char *
autosave_path (void)
{
  const char *env = g_getenv ("CONVSCOPE_STATE_DIR");
  g_autofree char *dir = env && *env ? g_strdup (env)
                                     : g_build_filename (g_get_user_state_dir (), "convscope", NULL);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_message ("The session will not be autosaved: %s cannot be made: %s", dir,
                 g_strerror (errno));
      return NULL;
    }
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  for (const char *name; d != NULL && (name = g_dir_read_name (d)) != NULL;)
    if (g_str_has_prefix (name, AUTOSAVE_NAME ".") && strlen (name) == strlen (AUTOSAVE_NAME) + 7)
      {
        g_autofree char *stale = g_build_filename (dir, name, NULL);
        g_unlink (stale);
      }
  return g_build_filename (dir, AUTOSAVE_NAME, NULL);
}

static guint
autosave_seconds (void)
{
  const char *env = g_getenv ("CONVSCOPE_AUTOSAVE_SECONDS");
  guint64 s;
  if (env != NULL && g_ascii_string_to_unsigned (env, 10, 1, 86400, &s, NULL))
    return (guint) s;
  return AUTOSAVE_SECONDS;
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

  self->autosave_path = autosave_path ();
  if (self->autosave_path != NULL)
    cs_session_set_autosave (self->session, self->autosave_path, autosave_seconds ());
}

/* The session of the last run, as it was autosaved: restored without a
 * question, as GNOME applications restore what was open, with a word in
 * the banner saying from when. */
static void
restore_autosave (CsApplication *self, CsWindow *window)
{
  GStatBuf st;
  g_autoptr(GError) error = NULL;

  if (self->new_session || self->autosave_path == NULL || g_stat (self->autosave_path, &st) != 0)
    return;
  if (!cs_session_restore_autosave (self->session, &error))
    {
      g_autofree char *text = g_strdup_printf (_("The autosaved session could not be restored: %s"),
                                               error->message);
      cs_window_show_message (window, text, TRUE);
      return;
    }
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (st.st_mtime);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  gboolean today = g_date_time_get_day_of_year (when) == g_date_time_get_day_of_year (now)
                   && g_date_time_get_year (when) == g_date_time_get_year (now);
  /* TRANSLATORS: a time of day, as in “Restored the session from 14:05” */
  g_autofree char *time = g_date_time_format (when, today ? _("%H:%M") : _("%x %H:%M"));
  g_autofree char *text = g_strdup_printf (_("Restored the session from %s"), time);
  cs_window_show_message (window, text, FALSE);
}

static gint
cs_application_handle_local_options (GApplication *app, GVariantDict *options)
{
  CsApplication *self = CS_APPLICATION (app);
  if (g_variant_dict_contains (options, "new-session"))
    self->new_session = TRUE;
  return -1;
}

static void
cs_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  CsApplication *self = CS_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (cs_window_new (self));
  if (n_files > 0)
    {
      g_autofree char *path = g_file_get_path (files[0]);
      if (path == NULL)
        cs_window_show_message (CS_WINDOW (window),
                                _("Sessions can only be opened from a local folder"), TRUE);
      else
        cs_window_open_session (CS_WINDOW (window), path);
    }
  gtk_window_present (window);
}

static void
cs_application_activate (GApplication *app)
{
  CsApplication *self = CS_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    {
      window = GTK_WINDOW (cs_window_new (self));
      restore_autosave (self, CS_WINDOW (window));
    }
  gtk_window_present (window);
}

static void
cs_application_dispose (GObject *object)
{
  CsApplication *self = (CsApplication *) object;

  g_clear_object (&self->session);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->autosave_path, g_free);

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
  app_class->open = cs_application_open;
  app_class->handle_local_options = cs_application_handle_local_options;
}

static void
cs_application_init (CsApplication *self)
{
  static const GOptionEntry options[] = {
    { "new-session", 0, 0, G_OPTION_ARG_NONE, NULL,
      N_("Start a new session instead of restoring the one autosaved"), NULL },
    { NULL },
  };
  g_application_add_main_option_entries (G_APPLICATION (self), options);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[FILE.convscope]"));
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
