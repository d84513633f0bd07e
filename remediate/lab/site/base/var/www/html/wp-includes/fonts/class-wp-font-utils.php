<?php
/**
 * WordPress-like lab stub for wp-includes/fonts/class-wp-font-utils.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'fonts/class-wp-font-utils.php';
