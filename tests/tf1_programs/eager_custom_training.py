"""The TF 1.x eager "custom training walkthrough" (iris) on synthetic data: tf.keras.Sequential,
a loss via tf.losses.sparse_softmax_cross_entropy, tf.GradientTape, a tf.train optimizer with
apply_gradients(global_step=), tfe.metrics.Mean / Accuracy, and a Python loop over a
tf.data.Dataset."""

from __future__ import absolute_import, division, print_function

import numpy as np
import rillet as tf

tf.enable_eager_execution()
tfe = tf.contrib.eager
tf.set_random_seed(0)
rs = np.random.RandomState(0)

print("Eager execution: {}".format(tf.executing_eagerly()))

# three well separated (standardized) clusters in place of the iris CSV file
centers = np.array([[-1.5, 1.0, -1.5, -1.5], [0.0, -1.0, 0.5, 0.0], [1.5, 0.0, 1.5, 1.5]])
labels_np = rs.randint(0, 3, size=240)
features_np = (centers[labels_np] + rs.normal(0, 0.4, size=(240, 4))).astype(np.float32)

batch_size = 32
train_dataset = tf.data.Dataset.from_tensor_slices((features_np, labels_np))
train_dataset = train_dataset.shuffle(240).batch(batch_size)

features, labels = next(iter(train_dataset))
print("example features:", features[:2])

model = tf.keras.Sequential([
    tf.keras.layers.Dense(10, activation=tf.nn.relu, input_shape=(4,)),  # input shape required
    tf.keras.layers.Dense(10, activation=tf.nn.relu),
    tf.keras.layers.Dense(3)
])

predictions = model(features)
print("Prediction: {}".format(tf.argmax(predictions, axis=1)))


def loss(model, x, y):
    y_ = model(x)
    return tf.losses.sparse_softmax_cross_entropy(labels=y, logits=y_)


l = loss(model, features, labels)
print("Loss test: {}".format(l))


def grad(model, inputs, targets):
    with tf.GradientTape() as tape:
        loss_value = loss(model, inputs, targets)
    return loss_value, tape.gradient(loss_value, model.trainable_variables)


optimizer = tf.train.GradientDescentOptimizer(learning_rate=0.1)
global_step = tf.Variable(0)

loss_value, grads = grad(model, features, labels)
print("Step: {}, Initial Loss: {}".format(global_step.numpy(), loss_value.numpy()))
optimizer.apply_gradients(zip(grads, model.trainable_variables), global_step)
print("Step: {}, Loss: {}".format(global_step.numpy(),
                                  loss(model, features, labels).numpy()))

# keep results for plotting
train_loss_results = []
train_accuracy_results = []

num_epochs = 30

for epoch in range(num_epochs):
    epoch_loss_avg = tfe.metrics.Mean()
    epoch_accuracy = tfe.metrics.Accuracy()

    # Training loop - using batches of 32
    for x, y in train_dataset:
        # Optimize the model
        loss_value, grads = grad(model, x, y)
        optimizer.apply_gradients(zip(grads, model.trainable_variables), global_step)

        # Track progress
        epoch_loss_avg(loss_value)  # add current batch loss
        # compare predicted label to actual label
        epoch_accuracy(tf.argmax(model(x), axis=1, output_type=tf.int32), y)

    # end epoch
    train_loss_results.append(epoch_loss_avg.result())
    train_accuracy_results.append(epoch_accuracy.result())

    if epoch % 10 == 0:
        print("Epoch {:03d}: Loss: {:.3f}, Accuracy: {:.3%}".format(
            epoch, epoch_loss_avg.result(), epoch_accuracy.result()))

assert int(global_step.numpy()) == 1 + num_epochs * 8, global_step.numpy()
assert float(train_loss_results[-1]) < float(train_loss_results[0])
assert float(train_accuracy_results[-1]) > 0.8, train_accuracy_results[-1]

predict_dataset = tf.convert_to_tensor(centers, dtype=tf.float32)
predictions = model(predict_dataset)
class_ids = [int(tf.argmax(logits).numpy()) for logits in predictions]
print("predicted classes of the class centers:", class_ids)
assert len(class_ids) == 3
full_accuracy = np.mean(np.argmax(model(features_np).numpy(), axis=1) == labels_np)
print("accuracy on all examples:", full_accuracy)
assert full_accuracy > 0.9, full_accuracy
print("OK")
