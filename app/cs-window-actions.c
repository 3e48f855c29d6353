/* cs-window-actions.c — the window's actions: views, export, the banner */
#include "config.h"

#include "cs-window-private.h"

#include "views/cs-view.h"

#include "core/session-file.h"

#include <glib/gi18n.h>
#include <string.h>

static const struct
{
  const char *name;      /* filter name */
  const char *suffix;
} export_formats[] = {
  { N_("PNG image"), "png" },
  { N_("SVG image"), "svg" },
  { N_("PDF document"), "pdf" },
};

static void
on_export_response (GtkNativeDialog *dialog, int response, CsWindow *self)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  if (file != NULL)
    path = g_file_get_path (file);

  if (file != NULL && path == NULL)
    cs_window_show_message (self, _("Figures can only be exported to a local folder"), TRUE);
  else if (path != NULL)
    {
      CsExportFormat format;
      if (!cs_export_format_from_path (path, &format))
        {
          /* no known extension: the one of the filter chosen, else PNG */
          GtkFileFilter *filter = gtk_file_chooser_get_filter (GTK_FILE_CHOOSER (dialog));
          const char *suffix = "png";
          for (guint i = 0; filter != NULL && i < G_N_ELEMENTS (export_formats); i++)
            if (g_strcmp0 (gtk_file_filter_get_name (filter), _(export_formats[i].name)) == 0)
              suffix = export_formats[i].suffix;
          char *with = g_strconcat (path, ".", suffix, NULL);
          g_free (path);
          path = with;
        }
      if (cs_window_export_view (self, path, &error))
        {
          g_autofree char *base = g_path_get_basename (path);
          g_autofree char *text = g_strdup_printf (_("Exported “%s”"), base);
          cs_window_show_message (self, text, FALSE);
        }
      else
        {
          g_autofree char *text = g_strdup_printf (_("The figure was not exported: %s"),
                                                   error->message);
          cs_window_show_message (self, text, TRUE);
        }
    }

  g_clear_object (&self->export_dialog);
}

static void
export_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CsWindow *self = CS_WINDOW (widget);

  if (self->export_dialog != NULL)
    {
      gtk_native_dialog_show (self->export_dialog);
      return;
    }

  GtkFileChooserNative *native =
    gtk_file_chooser_native_new (_("Export Figure"), GTK_WINDOW (self),
                                 GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (export_formats); i++)
    {
      GtkFileFilter *filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (filter, _(export_formats[i].name));
      gtk_file_filter_add_suffix (filter, export_formats[i].suffix);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
      g_object_unref (filter);
    }
  const char *view = cs_window_get_view (self);
  g_autofree char *name = g_strdup_printf ("convscope-%s.png", view ? view : "figure");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), name);

  self->export_dialog = GTK_NATIVE_DIALOG (native);
  g_signal_connect_object (native, "response", G_CALLBACK (on_export_response), self, 0);
  gtk_native_dialog_show (self->export_dialog);
}

/* ---- sessions --------------------------------------------------------------- */

static GtkFileFilter *
session_filter (void)
{
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("Convscope sessions"));
  gtk_file_filter_add_suffix (filter, "convscope");
  return filter;
}

static void
on_saved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(CsWindow) self = user_data;   /* held while saving */
  g_autoptr(GError) error = NULL;

  if (cs_session_save_finish (CS_SESSION (source), result, &error))
    {
      g_autofree char *base = g_path_get_basename (cs_session_get_file (CS_SESSION (source)));
      g_autofree char *text = g_strdup_printf (_("Saved the session as “%s”"), base);
      cs_window_show_message (self, text, FALSE);
    }
  else
    {
      g_autofree char *text = g_strdup_printf (_("The session was not saved: %s"), error->message);
      cs_window_show_message (self, text, TRUE);
    }
}

static void
save_to (CsWindow *self, const char *path)
{
  cs_session_save_async (self->session, path, NULL, on_saved, g_object_ref (self));
}

static void
on_session_response (GtkNativeDialog *dialog, int response, CsWindow *self)
{
  gboolean saving = gtk_file_chooser_get_action (GTK_FILE_CHOOSER (dialog))
                    == GTK_FILE_CHOOSER_ACTION_SAVE;
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  if (file != NULL)
    path = g_file_get_path (file);
  g_clear_object (&self->session_dialog);

  if (file != NULL && path == NULL)
    cs_window_show_message (self, _("Sessions can only be kept in a local folder"), TRUE);
  else if (path != NULL && saving)
    {
      if (!g_str_has_suffix (path, CS_SESSION_FILE_SUFFIX))
        {
          char *with = g_strconcat (path, CS_SESSION_FILE_SUFFIX, NULL);
          g_free (path);
          path = with;
        }
      save_to (self, path);
    }
  else if (path != NULL)
    cs_window_open_session (self, path);
}

static void
show_session_dialog (CsWindow *self, gboolean save)
{
  if (self->session_dialog != NULL)
    gtk_native_dialog_destroy (self->session_dialog);
  g_clear_object (&self->session_dialog);

  GtkFileChooserNative *native =
    save ? gtk_file_chooser_native_new (_("Save Session"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"))
         : gtk_file_chooser_native_new (_("Open Session"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  g_autoptr(GtkFileFilter) filter = session_filter ();
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
  if (save)
    {
      const char *file = cs_session_get_file (self->session);
      g_autofree char *base = file ? g_path_get_basename (file) : NULL;
      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native),
                                         base ? base : _("Lesson.convscope"));
    }
  self->session_dialog = GTK_NATIVE_DIALOG (native);
  g_signal_connect_object (native, "response", G_CALLBACK (on_session_response), self, 0);
  gtk_native_dialog_show (self->session_dialog);
}

static void
open_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  show_session_dialog (CS_WINDOW (widget), FALSE);
}

static void
save_as_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  show_session_dialog (CS_WINDOW (widget), TRUE);
}

static void
save_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CsWindow *self = CS_WINDOW (widget);
  const char *file = cs_session_get_file (self->session);

  if (file != NULL)
    save_to (self, file);
  else
    show_session_dialog (self, TRUE);
}

gboolean
cs_window_open_session (CsWindow *self, const char *path)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  g_autoptr(GError) error = NULL;
  if (!cs_session_open (self->session, path, &error))
    {
      g_autofree char *text = g_strdup_printf (_("The session could not be opened: %s"),
                                               error->message);
      cs_window_show_message (self, text, TRUE);
      return FALSE;
    }
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *text = g_strdup_printf (_("Opened the session “%s”"), base);
  cs_window_show_message (self, text, FALSE);
  return TRUE;
}

void
_cs_window_update_title (CsWindow *self)
{
  const char *file = cs_session_get_file (self->session);
  if (file == NULL)
    {
      gtk_window_set_title (GTK_WINDOW (self), _("Convscope"));
      return;
    }
  g_autofree char *base = g_path_get_basename (file);
  if (g_str_has_suffix (base, CS_SESSION_FILE_SUFFIX))
    base[strlen (base) - strlen (CS_SESSION_FILE_SUFFIX)] = '\0';
  /* TRANSLATORS: the window's title: the session's name, then the application's */
  g_autofree char *title = g_strdup_printf (_("%s — Convscope"), base);
  gtk_window_set_title (GTK_WINDOW (self), title);
}

static void
dismiss_banner_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CsWindow *self = CS_WINDOW (widget);

  g_clear_handle_id (&self->banner_timeout, g_source_remove);
  gtk_widget_set_visible (self->banner, FALSE);
}

void
_cs_window_actions_update (CsWindow *self)
{
  GtkWidget *view = gtk_stack_get_visible_child (self->stack);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.export", view != NULL && CS_IS_VIEW (view));
}

void
_cs_window_class_actions_init (CsWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_install_action (widget_class, "win.export", NULL, export_action);
  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "win.save", NULL, save_action);
  gtk_widget_class_install_action (widget_class, "win.save-as", NULL, save_as_action);
  gtk_widget_class_install_action (widget_class, "win.dismiss-banner", NULL, dismiss_banner_action);
  /* win.show-view::draw shows the Draw view; its state is the view shown */
  gtk_widget_class_install_property_action (widget_class, "win.show-view", "view");
}
