/* dataset.h — labelled image datasets: IDX files, image folders, mini-batches
 *
 * A CsDataset holds n grey images of rows × cols bytes and their labels, all
 * in memory. cs_dataset_load_idx() reads the MNIST IDX format (plain or
 * gzip, told apart by the bytes, not the name) and checks every field of it
 * before it allocates anything; cs_dataset_load_named() finds the digits
 * bundled with Convscope and Debian's Fashion-MNIST;
 * cs_dataset_load_folder() reads a folder of PNG and JPEG files with one
 * sub-folder per class, as torchvision's ImageFolder does. A CsBatcher serves
 * mini-batches in a seeded shuffled order, the way a PyTorch DataLoader with
 * shuffle=True and drop_last=False does.
 */
#pragma once

#include <glib.h>

#include "rng.h"

G_BEGIN_DECLS

#define CS_DATASET_ERROR (cs_dataset_error_quark ())

typedef enum
{
  CS_DATASET_ERROR_FORMAT,     /* not IDX, wrong type or rank, truncated, trailing data, bad gzip */
  CS_DATASET_ERROR_MISMATCH,   /* image and label files disagree on the count */
  CS_DATASET_ERROR_TOO_LARGE,  /* sizes that overflow or pass the limits below */
  CS_DATASET_ERROR_EMPTY,      /* an empty file, or one that holds no examples */
  CS_DATASET_ERROR_NOT_FOUND,  /* a named dataset that is not installed, or unknown */
} CsDatasetError;

/* Limits checked on the header, before any allocation */
#define CS_DATASET_MAX_SIDE   4096u              /* rows, cols */
#define CS_DATASET_MAX_BYTES  (G_GUINT64_CONSTANT (1) << 30)  /* pixels, and labels */
#define CS_DATASET_MAX_CLASSES 256u              /* a label is a byte */

typedef struct
{
  guint32 n;          /* number of examples */
  guint32 rows, cols; /* 28, 28 for MNIST */
  guint32 n_classes;  /* largest label + 1 */
  guint8 *images;     /* (n, rows, cols), row-major, 0..255, 0 = background */
  guint8 *labels;     /* (n) */
  char *name;         /* for messages and the UI: "MNIST digits (bundled), train" */
  char **class_names; /* (n_classes), NULL-terminated: the class folders' names,
                       * label k's is class_names[k]; NULL for IDX files */
} CsDataset;

GQuark     cs_dataset_error_quark      (void);

/* Files that fail to open keep their G_IO_ERROR; all else is CS_DATASET_ERROR.
 * Every message names the file it is about. */
CsDataset *cs_dataset_load_idx         (const char  *images_path,
                                        const char  *labels_path,
                                        GError     **error);

/* name: "digits" (the 8,000 / 2,000 MNIST digits in data/digits) or
 * "fashion" (Fashion-MNIST, 60,000 / 10,000, Debian's dataset-fashion-mnist);
 * split: "train" or "test".
 *
 * The digits are looked for in $CONVSCOPE_DATA_DIR/digits when that is set,
 * else in the source tree (uninstalled runs and tests), else in the
 * installed data folder. Fashion-MNIST is looked for in
 * $CONVSCOPE_FASHION_DIR when that is set, else in
 * /usr/share/datasets/fashion-mnist. */
CsDataset *cs_dataset_load_named       (const char  *name,
                                        const char  *split,
                                        GError     **error);
gboolean   cs_dataset_fashion_available (void);

/* An image folder, read as torchvision's
 *
 *   ImageFolder (path, transform=Compose ([Grayscale (), Resize ((28, 28)),
 *                                          ToTensor ()]))
 *
 * reads it: every sub-folder is a class, the classes sorted by name (byte
 * order, as Python sorts: "10" before "2") and labelled 0, 1, … in that
 * order; the files of each class sorted by name too. Each file becomes 28 ×
 * 28 bytes: the grey levels of cs_image_load() (PIL's convert ("L"), but
 * alpha composited over white where ImageFolder drops it), resized as
 * PIL's Image.resize (BILINEAR) does when it is not 28 × 28 already, its
 * aspect ratio not kept, as Resize ((28, 28)) does not keep it.
 *
 * The pixels are kept as they are, as ToTensor keeps them: nothing is
 * inverted. A network trained on MNIST wants white digits on black, so a
 * folder of such digits should be drawn that way.
 *
 * Names starting with "." are skipped, and so are files beside the class
 * folders (a README). Errors, each naming the folder or file: the folder is
 * missing or is not a folder (G_FILE_ERROR, as for a folder that cannot be
 * listed); no class folders, or a class folder without images
 * (CS_DATASET_ERROR_EMPTY); a folder inside a class folder
 * (CS_DATASET_ERROR_FORMAT: ImageFolder would read it, Convscope says so
 * instead of guessing); more than CS_DATASET_MAX_CLASSES classes, or more
 * images than CS_DATASET_MAX_BYTES hold (CS_DATASET_ERROR_TOO_LARGE); a
 * file that is not a PNG or JPEG picture, or a damaged one (its
 * CS_IMAGE_ERROR: not skipped as ImageFolder skips names it does not
 * know, since a dataset missing files without a word trains on less than
 * its author thinks). */
CsDataset *cs_dataset_load_folder      (const char  *path,
                                        GError     **error);

void       cs_dataset_free             (CsDataset   *ds);

/* x: (n, 1, rows, cols) floats, pixel / 255 (what torchvision's ToTensor gives)
 * y: (n) class indices
 * indices: (n) example indices, each < ds->n */
void       cs_dataset_fill_batch       (const CsDataset *ds,
                                        const guint32   *indices,
                                        guint32          n,
                                        float           *x,
                                        gint32          *y);

/* Mini-batches in a seeded shuffled order, reshuffled at each new epoch; the
 * last, partial batch of an epoch is served, not dropped. Nothing is
 * allocated per batch. The batcher reads ds, which must outlive it. */
typedef struct _CsBatcher CsBatcher;

CsBatcher *cs_batcher_new              (const CsDataset *ds,
                                        guint32          batch_size,
                                        guint64          seed);
/* Fills x: (size, 1, rows, cols) and y: (size), where size, returned, is
 * batch_size or less for the last batch of an epoch; x and y must have room
 * for batch_size examples. */
guint32    cs_batcher_next             (CsBatcher       *b,
                                        float           *x,
                                        gint32          *y);
/* The epoch (from 0) of the batch served last; 0 before the first. */
guint32    cs_batcher_epoch            (const CsBatcher *b);
guint32    cs_batcher_batches_per_epoch (const CsBatcher *b);
guint32    cs_batcher_batch_size       (const CsBatcher *b);
/* Later batches have batch_size examples (x and y must have room for
 * them); the epoch goes on where it was, in the same order, so no example
 * is served twice or skipped in it. */
void       cs_batcher_set_batch_size   (CsBatcher       *b,
                                        guint32          batch_size);
/* Where it is in its order (position, epoch, generator, the order), as
 * cs_batcher_state_size () bytes: saved, and restored into a batcher of the
 * same split, it serves the same batches again (at its own batch size). */
gsize      cs_batcher_state_size       (const CsBatcher *b);
gsize      cs_batcher_state_size_for   (guint32          n_examples);
void       cs_batcher_save_state       (const CsBatcher *b,
                                        gpointer         state);
void       cs_batcher_restore_state    (CsBatcher       *b,
                                        gconstpointer    state);
/* Where the batcher is, to go on from there in another batcher of the same
 * split (a session saved and opened again): this epoch's order (ds->n
 * indices), the position in it, the epoch and the generator. restore
 * checks that order is a permutation of the split and pos ≤ ds->n. */
void       cs_batcher_save             (const CsBatcher *b,
                                        guint32         *order,
                                        guint32         *pos,
                                        guint32         *epoch,
                                        CsRng           *rng);
gboolean   cs_batcher_restore          (CsBatcher       *b,
                                        const guint32   *order,
                                        guint32          pos,
                                        guint32          epoch,
                                        const CsRng     *rng,
                                        GError         **error);
void       cs_batcher_free             (CsBatcher       *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsDataset, cs_dataset_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsBatcher, cs_batcher_free)

G_END_DECLS
