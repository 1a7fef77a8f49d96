// The multiple-choice objective: softmax over each question's choices, mean cross-entropy.
import * as tf from '@tensorflow/tfjs-core';
import { registerModelGradients } from './gradients.js';

registerModelGradients();

/** Mean cross-entropy of `logits` [B, C] against the correct choice `labels` (int32 [B]). */
export function multipleChoiceLoss(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const choices = logits.shape[1];
    const logProbs = tf.logSoftmax(logits, 1);
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(tf.cast(labels, 'int32'), choices)), 1);
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}
