/* cs-cli.h — what the subcommands of convscope-cli share
 *
 * Every subcommand is a function `int cs_cli_<name> (int argc, char **argv)`
 * that returns the process's exit status: 0 on success, 1 when the work
 * failed (a bad file, a diverging run), 2 for bad usage, 130 when
 * interrupted. Every error is one line on stderr that starts with
 * "convscope-cli <command>: " and names the file or argument at fault.
 *
 * With --json, standard output carries one JSON object per line and nothing
 * else; each object has an "event" key saying what it is (convolve's lines
 * are stages of the example, with a "stage" key instead).
 */
#pragma once

#include "core/dataset.h"
#include "core/model.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define CS_CLI_EXIT_FAILURE     1
#define CS_CLI_EXIT_USAGE       2
#define CS_CLI_EXIT_INTERRUPTED 130

int  cs_cli_train    (int argc, char **argv);
int  cs_cli_eval     (int argc, char **argv);
int  cs_cli_predict  (int argc, char **argv);
int  cs_cli_convolve (int argc, char **argv);
int  cs_cli_bench    (int argc, char **argv);

/* One line on stderr: "convscope-cli <command>: <message>". */
void cs_cli_error    (const char *command,
                      const char *format,
                      ...) G_GNUC_PRINTF (2, 3);

/* Parses argv with entries; --help prints and exits 0 from inside GOption.
 * Returns FALSE (the error already printed) on bad usage. */
gboolean cs_cli_parse (const char   *command,
                       const char   *parameter,
                       const char   *summary,
                       const char   *description,
                       GOptionEntry *entries,
                       int          *argc,
                       char       ***argv);

/* A preset name ("mlp"), or a model JSON file. */
CsModel   *cs_cli_open_model   (const char *spec, GError **error);

/* A dataset for one split ("train" or "test"): "digits" (bundled),
 * "fashion", a folder of MNIST-named IDX files (train-images-idx3-ubyte[.gz]
 * and the three others), or a folder with train/ and test/ image folders
 * (one sub-folder per class). */
CsDataset *cs_cli_open_dataset (const char *spec, const char *split, GError **error);

/* An error unless the model takes the dataset's images and has an output
 * for each of its classes. */
gboolean   cs_cli_check_fit    (CsModel *model, const CsDataset *ds, GError **error);

/* JSON lines: begin gives a builder inside an object whose "event" is set;
 * the setters add members; print closes the object and writes it as one
 * line of compact JSON on stdout. */
JsonBuilder *cs_cli_json_begin   (const char *event);
void         cs_cli_json_int     (JsonBuilder *b, const char *key, gint64 value);
void         cs_cli_json_double  (JsonBuilder *b, const char *key, double value);
void         cs_cli_json_string  (JsonBuilder *b, const char *key, const char *value);
void         cs_cli_json_boolean (JsonBuilder *b, const char *key, gboolean value);
void         cs_cli_json_print   (JsonBuilder *b);

/* The backend named by --device (auto, cpu, cuda), or NULL with an error. */
const CsBackend *cs_cli_backend_for_device (const char *device, GError **error);

/* A checkpoint's model on the --device backend, with room for batches of
 * max_batch; NULL with the error printed and *status set otherwise. */
CsModel   *cs_cli_open_checkpoint (const char *command,
                                   const char *path,
                                   const char *device,
                                   int         max_batch,
                                   int        *status);

/* SIGINT and SIGTERM set a flag instead of killing the process; the
 * long-running loops check it between batches. */
void       cs_cli_catch_interrupts (void);
gboolean   cs_cli_interrupted      (void);

G_END_DECLS
