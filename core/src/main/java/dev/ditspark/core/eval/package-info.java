/**
 * Evaluation of samples: the Fashion-MNIST classifier of the demo (accuracy and a Fréchet distance on its features)
 * and the Fréchet distance itself. See docs/recipe.md, "Evaluation".
 */
package dev.ditspark.core.eval;
