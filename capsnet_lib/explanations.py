"""What the checks of the predict-then-run exercises explain, once the reader has answered.

A check prints its exercise's explanation after "correct", and adds it to the message of a wrong
prediction (never to that of an unanswered one). The texts live here rather than in the check
cells, where a reader would see the answer right below the question before predicting it.

Introduced in chapter 1, input.
"""

EXPLANATIONS: dict[str, str] = {
    "1.1": (
        "conv1's kernel grows with the input's 3 channels (62,464); the primary capsules' "
        "convolution stays at 5,308,672, since its kernel depends on conv1's 256 channels, not "
        "on the image's size; the grid grows from 6x6 to 8x8, so 2,048 primary capsules need "
        "2,621,440 weights W; the decoder's last layer redraws 3,072 pixels (3,756,544). In "
        "all 11,749,120, 43% more than for MNIST."
    ),
    "1.2": (
        "A 2x2 max-pooling misses a move only while the part stays inside one window: from "
        "column 0 to 1, 2 to 3 or 4 to 5, 3 of the 5 moves in each of the 6 rows, 18 of 30. A "
        "move across a window's edge changes the pooled map."
    ),
    "1.3": (
        "The mouth predicts the face 0.5 above itself, in its own frame: turned in place by 60"
        " degrees, it turns that arrow with it, and its predicted face centre moves along a "
        "circle of radius 0.5 by a chord of 2 x 0.5 x sin 30 = 0.5. A part's orientation, not "
        "only its position, says where the whole should be."
    ),
    "1.4": (
        "A seed fixes where the sequence of draws starts, not every draw: b draws the numbers "
        "after a's, so a and b differ; c starts again from the seed and draws what a drew. Two "
        "models built one after the other start alike only if you seed again before each."
    ),
    "2.1": (
        "The windows at r = 5 and c = 5 end at pixel 10 + 16 = 26: row 27 and column 27, 28 + "
        "27 = 55 pixels, are seen by no capsule (conv2's stride of 2 skips conv1's last row and"
        " column of outputs, the only ones that see them)."
    ),
    "2.2": (
        "Channels-first, the numbers lie channel after channel, 36 positions each; capsule 561"
        " takes numbers 8 x 561 = 4,488 to 4,495, and 4,488 = 124 x 36 + 24: channel 124 at "
        "positions 24 to 31, (4, 0) to (5, 1), a strip over two rows of the grid, not a part."
    ),
    "2.3": (
        "The safe norm shortens the output by the factor l / sqrt(l^2 + eps), which is 0.99 "
        "where l^2 = 0.99^2 eps / (1 - 0.99^2), about 49 eps: l is about 7 sqrt(eps), 0.0022. "
        "Squash maps so short an input to a length of about 5e-6, too short to matter."
    ),
    "3.1": (
        "Three times longer predictions make each parent's input three times longer, its "
        "output longer too, so every agreement grows about threefold or more: the logits "
        "grow faster and the softmax gets sharper. Children 0 to 3 send parent 0 nearly all "
        "of themselves: routing by agreement is not scale-free, the lengths act as its "
        "inverse temperature."
    ),
    "3.2": (
        "Each child's ten coefficients are a softmax: they sum to 1, so all 11,520 sum to "
        "1,152, in every round, 115.2 per parent on average. Routing only moves them between "
        "parents: what the winner gains (a few) comes out of the nine others, the shortest "
        "among them."
    ),
    "3.3": (
        "Its agreements u_hat . v are zero for every parent in every round, so its logits stay"
        " at 0 and its softmax stays even: 1/10 = 0.1 to each parent, whatever the others do."
        " A short capsule is nearly such a child: its small agreements barely move its logits."
    ),
    "3.5": (
        "Each round adds the agreements to the logits once more, so the agreeing children keep"
        " concentrating on the winner and its input keeps growing; squash saturates: the lengths"
        " approach 1 without reaching it, as their mean after ten rounds shows. Few classes, if"
        " any, change: more rounds make the network surer, hardly ever different."
    ),
    "4.1": (
        "λ(ℓ - 0.1)² = 0.16 gives ℓ - 0.1 = 0.4 × √2, ℓ ≈ 0.67: half the weight lets an absent "
        "class miss its margin by √2 times as much for the same cost, not twice as much: the "
        "square turns the weight λ into a factor 1/√λ on the distance."
    ),
    "4.2": (
        "A present class pays the whole square of its miss, (0.9 - 0.7)² = 0.04; an absent "
        "class half of its square, 0.5 × (0.4 - 0.1)² = 0.045. The square grows faster than "
        "λ = 0.5 takes off: B costs a little more."
    ),
    "4.3": (
        "One length at (nearly) 1 and nine at 0 give the largest share, e / (e + 9) ≈ 0.23. "
        "Exponentials of numbers in [0, 1) differ by less than a factor e ≈ 2.7, so a softmax "
        "over lengths, without a scale learnt to sharpen it, could never be confident: a "
        "CapsNet reads its lengths as they are."
    ),
    "5.1": (
        "The nine absent capsules are short, but the decoder only ever saw zeros in their "
        "slots: nine slots of small numbers, each read through its own rows of the first "
        "kernel, add up to a push it never learned to ignore. The mask gives the decoder what "
        "it was trained on."
    ),
    "5.2": (
        "Flattening (16, 10) puts dimension d of class k at position 10d + k: class 3 fills 3, "
        "13, ..., 153. The decoder reads positions 16j to 16j + 15 as class j's pose, so it "
        "would read the 3's pose as scraps of all ten classes' poses."
    ),
    "5.3": (
        "Only the kept capsule gets a gradient: the mask multiplies the nine others by zero. So"
        " the label decides which capsule the reconstruction loss trains to encode the digit."
    ),
    "5.4": (
        "The wrong label's capsule is short, so the decoder gets almost nothing but zeros and "
        "draws its picture of 'nothing': the slot says which digit, only a long pose says how."
    ),
    "6.1": (
        "With no axis, tf.reduce_sum adds every squared error of the batch: each image's sum "
        "over its 784 pixels, summed over the 50 images instead of averaged. At a batch of 50 "
        "the 2017 term was 50 times the paper's (and grew with the batch); the 2018 "
        "tf.reduce_mean divides the same total by 50 x 784, 784 times less than the paper's."
    ),
    "6.2": (
        "The margin term pulls harder, though it is the smaller part of the loss: a term "
        "pulls with its slope, not its value, and a margin miss d costs d^2 but pulls with "
        "2d (a miss of 0.1 costs 0.01 and pulls with 0.2). These are the gradients of one "
        "batch of test digits: only averaged over all the training digits, at an exact "
        "minimum of the training loss, must the two terms' gradients on the weights they "
        "share cancel."
    ),
    "6.3": (
        "The derivative of (x_hat - x)^2 is 2(x_hat - x) = 1, times 0.0005, divided by the "
        "32 x 784 = 25,088 squared errors the mean averages: about 2.0e-8, five times smaller "
        "than Adam's 1e-7. With the paper's sum (divided by the 32 images only) it would be "
        "784 times larger, 1.6e-5."
    ),
    "7.5": (
        "Routing's later rounds move each child's output towards the parents its prediction "
        "already agrees with. With random weights W those agreements are chance, so there "
        "is nothing useful to sharpen, and the extra rounds slowed the first steps down: "
        "routing refines what a trained W predicts. After a full training the paper's "
        "Table 1 finds one round and three close (0.29% and 0.25% test error, with the "
        "reconstruction)."
    ),
    "8.1": (
        "The decoder reads each of the ten slots with weights of its own, learned only from "
        "the poses that class's capsule gave real digits of that class. Another class's 16 "
        "numbers in that slot are a pose it never saw: most pictures are neither digit. A "
        "pose means something only in its own slot."
    ),
    "8.2": (
        "Less than twice: the decoder's pixels are sigmoids, and a pixel already near 0 or 1 "
        "moves little further; past the poses the decoder was trained on, a larger tweak "
        "mostly blurs. The response is roughly linear only for small tweaks."
    ),
    "9.2": (
        "Down. A digit fills its 20x20 box from top to bottom (most are taller than wide), so "
        "a vertical shift of 6 pixels runs into a margin of about 4; and since the centre of "
        "mass, not the box, was put in the middle, digits with more ink in their upper half "
        "(7, 9, 4, 5, 8) sit low, with the least room below."
    ),
    "9.4": (
        "At 45° each model gets dozens of digits right that the other misses, and the "
        "difference of accuracies is what is left after they cancel. That is why the paired "
        "interval is built from b and c, and why a small difference can hide large "
        "disagreement."
    ),
    "10.1": (
        "Two of the three, most often: nothing limits the number of long capsules, but the "
        "network never saw three digits. Routing shares each primary capsule's vote among the "
        "classes (its coefficients sum to 1), so three overlapping digits each keep fewer "
        "strokes of their own, and a class the mixed strokes merely suggest can outgrow one of "
        "them."
    ),
    "10.3": (
        "Colour changes only conv1: 64x64 gives 32 x 24 x 24 = 18,432 primary capsules. Each "
        "has a 16x8 matrix for each of the 100 classes: 18,432 x 100 x 128 = 235,929,600."
    ),
}
