"""The study's data by name: each file pinned by URL and sha256 (``jaxdl.hub``), cached under
``$JAXDL_HOME/data`` in the data folder's own layout, so that folder serves as a data folder.

=====================  ==========================================  =====  =====================
name                   path in the data folder                     size   pinned from
=====================  ==========================================  =====  =====================
``mnist``              ``mnist/mnist.npz``                         11 MB  Keras' canonical file
``imagenet_val_25``    ``imagenet/imagenet_val_25.npz``            4 MB   CS231n, exact bytes
``squeezenet1_1``      ``weights/squeezenet1_1_onnx_zoo/``         5 MB   ONNX zoo via webnn
``bsds500``            ``bsds500/{train,val}/*.jpg``               23 MB  300 photos, exact bytes
``scene15``            ``scene15/{train,test}/<Class>/*.jpg``      92 MB  4485 images, exact bytes
=====================  ==========================================  =====  =====================

Keras pins ``mnist.npz`` by sha256 in its own source (``keras.datasets.mnist``); the 25
ImageNet images are hashed from their bytes in ``zhoujf620/CS231n_Assignments`` at commit
3661013; the weights are ``jaxdl.models.WEIGHTS["squeezenet1_1"]["onnx_zoo"]``; the BSDS500
photos, from which the DANN chapter builds MNIST-M (Ganin & Lempitsky's recipe) where the data
folder has no ``mnist_m.npz``, are hashed from their bytes in ``Sisso16/ssn_pytorch`` at commit
c4f9ac8 (``resources/bsds500.sha256``); 15-Scene's standard split (100 training images per
class) from ``lionelmessi6410/Scene-Recognition-with-Bag-of-Words`` at commit 1bbc11c
(``resources/scene15.sha256``).

>>> sorted(DATA)
['bsds500', 'imagenet_val_25', 'mnist', 'scene15', 'squeezenet1_1']
"""

from pathlib import Path

from jaxdl import hub
from jaxdl.models.published import WEIGHTS
from jaxdl.paths import home

KERAS_MNIST = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
CS231N = (
    "https://raw.githubusercontent.com/zhoujf620/CS231n_Assignments/"
    "36610131740914b0b9a092aa03f65fdb92e49aa2/assignment3/cs231n/datasets/imagenet_val_25.npz"
)

BSDS500 = (
    "https://raw.githubusercontent.com/Sisso16/ssn_pytorch/"
    "c4f9ac8c43397cbacbf2e2ba1505efafa769435d/BSR/BSDS500/data/images/"
)

SCENE15 = (
    "https://raw.githubusercontent.com/lionelmessi6410/Scene-Recognition-with-Bag-of-Words/"
    "1bbc11cd060f792b54b86baa8a5f7483133b9f2c/data/"
)


DATA = {
    "mnist": hub.Source(
        "mnist/mnist.npz",
        (
            hub.Pinned(
                KERAS_MNIST, "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
            ),
        ),
        11.5,
        cache="data",
    ),
    "imagenet_val_25": hub.Source(
        "imagenet/imagenet_val_25.npz",
        (hub.Pinned(CS231N, "35141609d22457c791e8fbe10c2d3b09ed0d6a04b669173e9fbebb0b4915cd3c"),),
        3.9,
        cache="data",
    ),
    "squeezenet1_1": WEIGHTS["squeezenet1_1"]["onnx_zoo"],
    "bsds500": hub.Source(
        "bsds500", hub.pinned_files("bsds500.sha256", BSDS500), 23, folder=True, cache="data"
    ),
    "scene15": hub.Source(
        "scene15", hub.pinned_files("scene15.sha256", SCENE15), 92, folder=True, cache="data"
    ),
}
# what each path of a data folder is, by name
BY_PATH = {source.name: name for name, source in DATA.items()}


def data_home() -> Path:
    """The cache laid out as a data folder: ``$JAXDL_HOME/data``."""
    return home() / "data"


def fetch_data(paths, progress: bool = False) -> Path:
    """Fetch the published files among ``paths`` (data-folder paths, e.g. "mnist/mnist.npz")
    into ``data_home()`` and return it; paths nothing is published for are left out."""
    for path in paths:
        if path in BY_PATH:
            hub.fetch(DATA[BY_PATH[path]], progress=progress)
    return data_home()


def megabytes(paths) -> float:
    """How much ``fetch_data(paths)`` downloads at most."""
    return sum(DATA[BY_PATH[p]].megabytes for p in paths if p in BY_PATH)
