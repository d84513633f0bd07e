<?php
/**
 * WordPress-like lab stub for wp-includes/class-walker-comment.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-walker-comment.php';
