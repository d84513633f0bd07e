<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/block-style-variations.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/block-style-variations.php';
