<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-comment.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-comment.php';
