<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-rewrite.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-rewrite.php';
