"""The cluster: the request layer, the kubeconfig, the connection pool and the API's errors.

Nothing here knows about releases; everything above sends its requests through `rest.Rest`."""
