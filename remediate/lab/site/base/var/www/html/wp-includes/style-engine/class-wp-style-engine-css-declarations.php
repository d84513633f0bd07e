<?php
/**
 * WordPress-like lab stub for wp-includes/style-engine/class-wp-style-engine-css-declarations.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'style-engine/class-wp-style-engine-css-declarations.php';
