"""The error jaxdl raises for bad input: a file, an array, a value or a run folder that is not
what a call expects. Its message is one line naming the input and what was expected, so a
command line can print exactly these errors as one line and let any other exception (a bug)
show its traceback."""


class InputError(ValueError):
    """Bad input, named with what was expected (a ``ValueError``, so ``except ValueError``
    still catches it).

    >>> from jaxdl.models import get_spec
    >>> get_spec("resnet50")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    jaxdl.errors.InputError: unknown model 'resnet50'; expected one of: vgg16, squeezenet1_0, ...
    """
