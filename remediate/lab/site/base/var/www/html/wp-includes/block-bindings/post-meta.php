<?php
/**
 * WordPress-like lab stub for wp-includes/block-bindings/post-meta.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-bindings/post-meta.php';
