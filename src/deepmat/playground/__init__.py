"""``deepmat playground``: a local web page on which a learner builds a small network, trains it
on a 2-D data set and steps through its forward and backward equations.

Every number the page draws is computed here, on the server, by deepmat's own
:class:`~deepmat.Network`, :class:`~deepmat.training.Trainer` and :mod:`deepmat.functional`;
the page (``static/``) only draws. The modules, in the order a request meets them:

- :mod:`~deepmat.playground.server`: binds the address and runs the ASGI app under uvicorn;
- :mod:`~deepmat.playground.guard`: refuses other hosts and origins and oversized bodies;
- :mod:`~deepmat.playground.app`: the routes, JSON in and out, errors as JSON messages;
- :mod:`~deepmat.playground.store`: the sessions, one per browser tab, bounded and expiring;
- :mod:`~deepmat.playground.settings`: every setting of the page, checked with bounds;
- :mod:`~deepmat.playground.datasets`: the 2-D data sets and their features;
- :mod:`~deepmat.playground.session`: one tab's network, data and training, in slices;
- :mod:`~deepmat.playground.views`: the decision boundary and the layers' health as JSON;
- :mod:`~deepmat.playground.stepthrough`: one forward and backward pass, equation by
  equation (the lines of :func:`deepmat.explain.explain`), with every matrix's values;
- :mod:`~deepmat.playground.export`: the trained model file and a Python snippet.

``import deepmat`` imports none of this; :mod:`~deepmat.playground.datasets`,
:mod:`~deepmat.playground.settings` and the modules below them need NumPy alone, the server
modules need Starlette and uvicorn (``pip install 'deepmat[playground]'``).
"""
