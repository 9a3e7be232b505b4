"""What the checks of the predict-then-run exercises explain, once the reader has answered.

A check prints its exercise's explanation after "correct", and adds it to the message of a wrong
prediction (never to that of an unanswered one). The texts live here rather than in the check
cells, where a reader would see the answer right below the question before predicting it.

Introduced in chapter 1, input.
"""

EXPLANATIONS: dict[str, str] = {
    "1.2": (
        "A 2x2 max-pooling misses a move only while the part stays inside one window: from "
        "column 0 to 1, 2 to 3 or 4 to 5, 3 of the 5 moves in each of the 6 rows, 18 of 30. A "
        "move across a window's edge changes the pooled map."
    ),
    "2.1": (
        "The windows at r = 5 and c = 5 end at pixel 10 + 16 = 26: row 27 and column 27, 28 + "
        "27 = 55 pixels, are seen by no capsule (conv2's stride of 2 skips conv1's last row and"
        " column of outputs, the only ones that see them)."
    ),
    "3.2": (
        "Each child's ten coefficients are a softmax: they sum to 1, so all 11,520 sum to "
        "1,152, in every round, 115.2 per parent on average. Routing only moves them between "
        "parents: what the winner gains (a few) comes out of the nine others, the shortest "
        "among them."
    ),
    "4.2": (
        "A present class pays the whole square of its miss, (0.9 - 0.7)² = 0.04; an absent "
        "class half of its square, 0.5 × (0.4 - 0.1)² = 0.045. The square grows faster than "
        "λ = 0.5 takes off: B costs a little more."
    ),
    "5.3": (
        "Only the kept capsule gets a gradient: the mask multiplies the nine others by zero. So"
        " the label decides which capsule the reconstruction loss trains to encode the digit."
    ),
    "5.4": (
        "The wrong label's capsule is short, so the decoder gets almost nothing but zeros and "
        "draws its picture of 'nothing': the slot says which digit, only a long pose says how."
    ),
    "6.2": (
        "The margin term pulls harder, though it is the smaller part of the loss: the "
        "reconstruction error sits near its floor, where its gradient is small whatever its "
        "size, while the margin loss's squared misses keep a gradient 2d on the few capsules "
        "still inside a margin."
    ),
    "7.5": (
        "One round of routing gives every child's prediction the same weight, 1/10 to each "
        "parent, and on digits the network knows the predictions already agree: the trained "
        "weights W do most of the work, and the later rounds only sharpen what one round "
        "finds. The paper's Table 1 shows the same on MNIST: 0.29% error with 1 iteration, "
        "0.25% with 3."
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
