"""The read API the web app (and later OCPI) shares: what the browser needs beyond plain chain
calls, read on the server from the chain (web3) and the oracle's store, served by
``wattnet app`` (:mod:`wattnet.api.server`)."""
