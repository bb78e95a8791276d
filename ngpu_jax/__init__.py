"""ngpu_jax: the Neural GPU (Kaiser & Sutskever, 2015) in JAX/Flax."""

from ngpu_jax.inference import Predictor, load

__all__ = ['Predictor', 'load']
